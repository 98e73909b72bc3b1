"""The local (SQLite) store at fleet scale: fleet chart and overview latency with 100 and 1,000 hosts
holding a week of samples, measured in one run so their ratio means something on a noisy machine.

Per fleet size (`VIGIL_BENCH_SCALE_LOCAL_HOSTS`, default `DEFAULT_SIZES`: `hosts` or `hostsxmetrics`),
a SQLite file holds `hosts` x 20 metrics (or the first `metrics` of them) @ 60 s x
`VIGIL_BENCH_SCALE_LOCAL_DAYS` days (default 7: 201.6 million samples at 1,000 x 20), written by
`vigil.services.backfill.backfill` into an empty store: its one pass (the store's bulk path, with the
hourly, daily and fine-tier rollups and the fleet tier built from the same arrays, as the jobs would).
The clock is fixed (`END`), so the file is a pure function of the generator's parameters and the
schema: it is cached under `build/bench-scale-local/` keyed by both, and the next run only measures
(the figures of the build that made it are kept beside it and reported again, with `built_at`). Delete
the folder to rebuild. Every file is built before any is measured. Then the fleet job runs once at the
measuring minute (as `vigil serve` runs it every minute) and, through the real gateway and metrics
handler (the HTTP routes the dashboard calls), each query runs `REPEAT` times with the clock moving a
second each time, a minute after the newest sample: the 24 h and 7 d fleet charts
(`system.cpu.utilization`, `group_by=none`) and the overview (`/api/metrics`: KPIs and the bounded
per-host values; its 24 h response-time chart), and the peer comparison's per-host queries (one
series and avg by host over 24 h at 60 s, hourly avg by host over 7 d). Figures: p50/p95 in ms per
size, the p95 ratio for each pair of sizes with the same metrics, samples, bytes on disk and per
sample (the whole file, and the raw samples' block bodies alone), build time per
phase, the overview's size and host count. Must not be imported by tests.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

REPEAT = 40
# the sizes; a cold cache builds them once in ≈ 8 + 26 minutes here (2026-12-03, load 1-10),
# then a run measures in seconds. `100x2,1000x2` (the 2 metrics the requests read) builds in ≈ 11
DEFAULT_SIZES = "100,1000"
INTERVAL = 60
END = 1_764_028_800.0  # 2025-11-25T00:00Z: the newest sample's minute; fixed so the cache stays valid
GENERATOR = 1  # bump when the generated samples change (part of the cache key)
METRICS = ["system.cpu.utilization", "system.memory.utilization"] + [f"bench.gauge.{i}" for i in range(18)]
CACHE = Path(__file__).resolve().parent.parent / "build" / "bench-scale-local"
QUERIES = {
    "fleet_chart_24h": (
        "/api/metrics/series",
        {"metric": "system.cpu.utilization", "from": "-24h", "group_by": "none"},
    ),
    "fleet_chart_7d": (
        "/api/metrics/series",
        {"metric": "system.cpu.utilization", "from": "-7d", "group_by": "none"},
    ),
    # the peer comparison's per-host queries (issue 18): one series and avg by host at 60 s over a day,
    # hourly averages by host over the week
    "one_series_24h": (
        "/api/metrics/series",
        {"metric": "system.cpu.utilization", "host": "host-00007", "from": "-24h", "step": "60s"},
    ),
    "avg_by_host_24h": (
        "/api/metrics/series",
        {"metric": "system.cpu.utilization", "from": "-24h", "group_by": "host", "step": "60s"},
    ),
    "avg_by_host_7d_hourly": (
        "/api/metrics/series",
        {"metric": "system.cpu.utilization", "from": "-7d", "group_by": "host", "step": "1h"},
    ),
    "overview_snapshot": ("/api/metrics", {}),
    "overview_chart": (
        "/api/metrics/series",
        {"metric": "http.server.request.duration", "from": "-24h", "group_by": "none", "agg": "p50,p95,p99"},
    ),
}


def blocks(n_hosts: int, days: int, metrics: int = len(METRICS)) -> Iterator[Any]:
    """Every series' samples as one `SeriesBlock`: minute i of host h, metric j (the first `metrics` of
    METRICS) is ((13h + 7i + j) % 100) / 100. The 100 possible value arrays are built once and shared."""
    from vigil.domain.models import SeriesBlock

    n = days * 86400 // INTERVAL
    ts = [END - (n - 1 - i) * INTERVAL for i in range(n)]
    patterns = [[((o + 7 * i) % 100) / 100 for i in range(n)] for o in range(100)]
    for h in range(n_hosts):
        for j, metric in enumerate(METRICS[:metrics]):
            yield SeriesBlock(f"host-{h:05d}", metric, (), ts, patterns[(h * 13 + j) % 100])


def database(n_hosts: int, days: int, metrics: int = len(METRICS)) -> tuple[Path, dict[str, Any]]:
    """The cached file for this size (built when missing) and the figures of the build that made it."""
    from vigil.adapters.store.sqlite import SCHEMA_VERSION, SqliteStore
    from vigil.config import Config
    from vigil.services.backfill import backfill

    key = f"h{n_hosts}-d{days}-m{metrics}-i{INTERVAL}-end{int(END)}-gen{GENERATOR}-schema{SCHEMA_VERSION}"
    folder = CACHE / key
    path, meta = folder / "vigil.sqlite3", folder / "build.json"
    if meta.exists():
        return path, {**json.loads(meta.read_text()), "cached": 1}
    shutil.rmtree(folder, ignore_errors=True)  # a build that died halfway
    building = CACHE / f"{key}.building"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    config = Config(data_dir=building)
    store = SqliteStore(building / "vigil.sqlite3", config.retention_seconds)
    t = time.perf_counter()
    thresholds = asdict(config.thresholds)
    done = backfill(
        store,
        blocks(n_hosts, days, metrics),
        END,
        retention_seconds=config.retention_seconds,
        thresholds=thresholds,
    )
    build_s = time.perf_counter() - t
    store._conn().execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the file alone holds everything
    (raw_bytes,) = store._conn().execute("SELECT total(length(body)) FROM blocks").fetchone()
    store.close()
    size = sum(f.stat().st_size for f in building.glob("vigil.sqlite3*"))
    figures = {
        "samples": done["rows"],
        "db_bytes": size,
        "bytes_per_sample": round(size / done["rows"], 1),
        "raw_block_bytes_per_sample": round(raw_bytes / done["rows"], 2),  # the samples alone, no rollups
        "load_s": round(done["load_s"], 1),
        "load_samples_per_s": round(done["rows"] / done["load_s"]),
        "rollups_s": round(done["rollups_s"], 1),
        "fleet_s": round(done["fleet_s"], 1),
        "build_s": round(build_s, 1),
        "build_samples_per_s": round(done["rows"] / build_s),
        "one_pass": int(done["one_pass"]),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (building / "build.json").write_text(json.dumps(figures, indent=2) + "\n")
    building.rename(folder)
    return path, {**figures, "cached": 0}


def measure(n_hosts: int, days: int, metrics: int = len(METRICS)) -> dict[str, Any]:
    """Figures of one size, keyed `<figure>_<hosts>` (`<hosts>x<metrics>` when not every metric)."""
    from bench.bench_cost import _Clock
    from vigil.adapters.store.sqlite import SqliteStore
    from vigil.config import Config
    from vigil.local.client import GatewayClient
    from vigil.local.gateway import Gateway
    from vigil.services.fleet import run_fleet
    from vigil.wiring import AppContext

    path, built = database(n_hosts, days, metrics)
    size = f"{n_hosts}" if metrics == len(METRICS) else f"{n_hosts}x{metrics}"
    config = Config(data_dir=path.parent, admin_token="bench", interval_seconds=float(INTERVAL))
    store = SqliteStore(path, config.retention_seconds)
    # a minute after the newest sample: every host is up (the overview lists them all), and the fleet
    # job's newest built minute is three minutes old (the raw tail after it is read per request)
    clock = _Clock(END + 60.0)
    # the fleet job's run at that minute, as `vigil serve` runs it every minute: it refreshes the
    # overview snapshot (and its bounded `by_host`) the requests below read
    run_fleet(
        store, clock.t, retention_seconds=config.retention_seconds, thresholds=asdict(config.thresholds)
    )
    client = GatewayClient(Gateway(AppContext(config, clock=clock, _store=store)), token="bench")
    out: dict[str, Any] = {f"{k}_{size}": v for k, v in built.items() if k != "built_at"}
    out[f"built_at_{size}"] = built["built_at"]
    for name, (route, params) in QUERIES.items():
        client.get(route, params=params)  # warm-up: first touch of the file's pages
        times = []
        for _ in range(REPEAT):
            clock.t += 1.0
            t = time.perf_counter()
            response = client.get(route, params=params)
            times.append((time.perf_counter() - t) * 1000)
            assert response.status == 200, response.body[:200]
        times.sort()
        out[f"{name}_p50_ms_{size}"] = round(statistics.median(times), 1)
        out[f"{name}_p95_ms_{size}"] = round(times[math.ceil(0.95 * len(times)) - 1], 1)
    route, params = QUERIES["fleet_chart_7d"]
    answer = json.loads(client.get(route, params=params).body)
    out[f"fleet_chart_7d_points_{size}"] = sum(v is not None for v in answer["series"][0]["values"])
    overview = json.loads(client.get("/api/metrics").body)
    out[f"overview_cpu_hosts_{size}"] = len(overview["by_host"]["cpu"]["hosts"])
    out[f"overview_cpu_count_{size}"] = overview["by_host"]["cpu"]["count"]
    out[f"overview_bytes_{size}"] = len(client.get("/api/metrics").body)
    store.close()
    return out


def run() -> dict[str, Any]:
    """`VIGIL_BENCH_SCALE_LOCAL_HOSTS`: sizes, each `hosts` or `hostsxmetrics` (e.g. `1000x2`: 2 of the
    20 metrics per host, for a week on a machine too busy to build the full size); p95 ratios for every
    pair of sizes with the same metrics."""
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    days = int(os.environ.get("VIGIL_BENCH_SCALE_LOCAL_DAYS", "7"))
    sizes = []
    for spec in os.environ.get("VIGIL_BENCH_SCALE_LOCAL_HOSTS", DEFAULT_SIZES).split(","):
        hosts, _, metrics = spec.partition("x")
        sizes.append((int(hosts), int(metrics or len(METRICS)), spec))
    out: dict[str, Any] = {"days": days, "metrics": len(METRICS), "interval_s": INTERVAL, "repeat": REPEAT}
    for n, m, _ in sizes:  # every file first, so the sizes are measured back to back
        database(n, days, m)
    for n, m, _ in sizes:
        out.update(measure(n, days, m))
    for large, lm, lspec in sizes:
        for small, sm, sspec in sizes:
            if lm == sm and large > small:
                for name in QUERIES:
                    out[f"{name}_p95_ratio_{lspec}_vs_{sspec}"] = round(
                        out[f"{name}_p95_ms_{lspec}"] / out[f"{name}_p95_ms_{sspec}"], 2
                    )
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
