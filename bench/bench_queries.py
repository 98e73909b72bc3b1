"""Query latency p50/p95 on the local SQLite store over seeded history (`bench.seed`), through the
real gateway and metrics handler (auth, validation, planning, JSON): one host 24 h and 7 d, fleet-wide
avg 7 d (100 hosts), fleet p95 latency 24 h, a 365 d daily view. Goal p95 < 50 ms. Size from
VIGIL_BENCH_HOSTS / VIGIL_BENCH_INTERVAL (defaults 100 hosts, 600 s: the full 10 s resolution does
not fit the ~10 min `make bench` budget, see bench/NOTES.md)."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.seed import seed
from vigil.config import Config
from vigil.local.client import GatewayClient
from vigil.local.gateway import Gateway
from vigil.wiring import AppContext

QUERIES = {
    "one_host_24h": {"metric": "system.cpu.utilization", "host": "host-000", "from": "-24h"},
    "one_host_7d": {"metric": "system.cpu.utilization", "host": "host-000", "from": "-7d"},
    "fleet_avg_7d": {"metric": "system.cpu.utilization", "from": "-7d", "agg": "avg", "group_by": "none"},
    "fleet_p95_latency_24h": {
        "metric": "http.server.request.duration",
        "from": "-24h",
        "agg": "p95",
        "group_by": "none",
    },
    "daily_365d_fleet": {
        "metric": "system.cpu.utilization",
        "from": "-365d",
        "step": "1d",
        "group_by": "none",
    },
}


class _Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def now(self) -> float:
        return self.t


def run(repeat: int = 30) -> dict[str, float | int | str]:
    hosts = int(os.environ.get("VIGIL_BENCH_HOSTS", "100"))
    interval = float(os.environ.get("VIGIL_BENCH_INTERVAL", "600"))
    data = Path(tempfile.mkdtemp(prefix="vigil-bench-queries-"))
    now = time.time()
    config = Config(data_dir=data, admin_token="bench")
    out: dict[str, float | int | str] = {
        f"seed_{k}": v for k, v in seed(config.sqlite_path, now, hosts, interval).items()
    }
    ctx = AppContext(config, clock=_Clock(now))
    client = GatewayClient(Gateway(ctx), token="bench")
    for name, params in QUERIES.items():
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            r = client.get("/api/metrics/series", params=params)
            times.append((time.perf_counter() - t) * 1000)
            assert r.status == 200, r.body[:300]
        times.sort()
        out[f"{name}_p50_ms"] = round(statistics.median(times), 1)
        out[f"{name}_p95_ms"] = round(times[int(0.95 * (len(times) - 1))], 1)
    ctx.store.close()
    return out
