"""The local (SQLite) store at fleet scale: fleet chart and overview latency with 100 and 1,000 hosts.

Per fleet size, a fresh SQLite file is loaded through the store's bulk path (`SqliteStore.put_samples`,
one host-hour per batch: 20 series every 60 s) for `VIGIL_BENCH_SCALE_LOCAL_HOURS` hours of raw samples
(default 2; 168 is the issue's full week, ~200 million rows and tens of GB at 1,000 hosts: too long
for `make bench` on this machine), then the real fleet job builds its minutes from the last 10 minutes
of those samples, and the fleet tier's history (24 h of minutes, 7 d of hours) is copied from them
(`bench_scale._fill_history`). The fleet reads touch only the fleet tier and the raw tail after its
watermark, so the raw history beyond that changes their cost little. Then, through the real gateway
and metrics handler, each query runs `REPEAT` times (the clock moves a second each time): the 24 h and
7 d fleet charts (`system.cpu.utilization`, `group_by=none`) and the overview (`/api/metrics` and its
24 h response-time series). Figures: p50/p95 in ms, the ratio 1,000 / 100 hosts, rows and file size.
Must not be imported by tests.
"""

from __future__ import annotations

import math
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

REPEAT = 20
METRICS = ["system.cpu.utilization", "system.memory.utilization"] + [f"bench.gauge.{i}" for i in range(18)]
QUERIES = {
    "fleet_chart_24h": (
        "/api/metrics/series",
        {"metric": "system.cpu.utilization", "from": "-24h", "group_by": "none"},
    ),
    "fleet_chart_7d": (
        "/api/metrics/series",
        {"metric": "system.cpu.utilization", "from": "-7d", "group_by": "none"},
    ),
    "overview_snapshot": ("/api/metrics", {}),
    "overview_chart": (
        "/api/metrics/series",
        {"metric": "http.server.request.duration", "from": "-24h", "group_by": "none", "agg": "p50,p95,p99"},
    ),
}


def measure(n_hosts: int, hours: int) -> dict[str, float]:
    from bench.bench_cost import _Clock
    from bench.bench_scale import _fill_history
    from vigil.adapters.store.sqlite import SqliteStore
    from vigil.config import Config
    from vigil.domain.fleet import fleet_hours
    from vigil.domain.models import Point
    from vigil.local.client import GatewayClient
    from vigil.local.gateway import Gateway
    from vigil.services.fleet import SETTLE_SECONDS, STATE_KIND, WATERMARK_ID, run_fleet
    from vigil.wiring import AppContext

    folder = Path(tempfile.mkdtemp(prefix="vigil-bench-scale-local-"))
    config = Config(data_dir=folder, admin_token="bench")
    store = SqliteStore(folder / "vigil.sqlite3", config.retention_seconds)
    end = math.floor(time.time() / 3600) * 3600
    t = time.perf_counter()
    rows = 0
    for h in range(n_hosts):
        host = f"host-{h:05d}"
        for hour in range(hours):
            base = end - (hours - hour) * 3600
            points = [
                Point(host, m, (), base + 60 * i, round(((h * 13 + i * 7 + j) % 100) / 100, 4))
                for i in range(60)
                for j, m in enumerate(METRICS)
            ]
            store.put_samples(host, points, f"{host}-{hour}", end)
            rows += len(points)
    load_s = time.perf_counter() - t
    now = end + SETTLE_SECONDS
    store.put_doc(STATE_KIND, WATERMARK_ID, {"until": end - 600, "from": end - 600})
    t = time.perf_counter()
    run_fleet(store, now, retention_seconds=config.retention_seconds)
    fleet_s = time.perf_counter() - t
    _fill_history(store, now, fleet_hours, STATE_KIND, WATERMARK_ID)
    clock = _Clock(now)
    client = GatewayClient(Gateway(AppContext(config, clock=clock, _store=store)), token="bench")
    out: dict[str, float] = {
        f"rows_{n_hosts}": rows,
        f"db_mb_{n_hosts}": round(sum(f.stat().st_size for f in folder.glob("vigil.sqlite3*")) / 1e6, 1),
        f"load_s_{n_hosts}": round(load_s, 1),
        f"fleet_run_s_{n_hosts}": round(fleet_s, 2),
    }
    for name, (path, params) in QUERIES.items():
        times = []
        for _ in range(REPEAT):
            clock.t += 1.0
            t = time.perf_counter()
            response = client.get(path, params=params)
            times.append((time.perf_counter() - t) * 1000)
            assert response.status == 200, response.body[:200]
        times.sort()
        out[f"{name}_p50_ms_{n_hosts}"] = round(statistics.median(times), 1)
        out[f"{name}_p95_ms_{n_hosts}"] = round(times[math.ceil(0.95 * len(times)) - 1], 1)
    store.close()
    return out


def run() -> dict[str, Any]:
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    hours = int(os.environ.get("VIGIL_BENCH_SCALE_LOCAL_HOURS", "2"))
    out: dict[str, Any] = {"raw_hours": hours, "metrics": len(METRICS), "interval_s": 60, "repeat": REPEAT}
    for n in (100, 1000):
        out.update(measure(n, hours))
    for name in QUERIES:
        out[f"{name}_p95_ratio_1000_vs_100"] = round(
            out[f"{name}_p95_ms_1000"] / out[f"{name}_p95_ms_100"], 2
        )
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
