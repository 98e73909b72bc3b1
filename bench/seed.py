"""Seed a SQLite store with history for the query benchmarks, through the store's bulk path
(`SqliteStore.put_samples`, one host-hour per batch; the HTTP path is measured by `bench_ingest`).

Size (stated in the results): `hosts` x 20 metrics (19 gauges + one latency histogram) every
`interval` seconds for 7 days, then the rollup job over it, then 358 more days of daily rollups of
`system.cpu.utilization` generated directly (raw data that old no longer exists anyway)."""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

from vigil.adapters.store.sqlite import SqliteStore
from vigil.domain import histograms
from vigil.domain.models import Point
from vigil.domain.rollups import Rollup
from vigil.services.rollups import run_rollups

RETENTION = 7 * 86400.0
GAUGES = ["system.cpu.utilization"] + [f"bench.gauge.{i}" for i in range(18)]
LATENCY = "http.server.request.duration"


def seed(path: Path, now: float, hosts: int = 100, interval: float = 60.0) -> dict[str, float]:
    store = SqliteStore(path, RETENTION)
    rng = random.Random(7)
    start = math.floor((now - RETENTION) / 3600) * 3600 + 3600
    samples = 0
    t = time.perf_counter()
    for h in range(hosts):
        host = f"host-{h:03d}"
        for hour in range(int((now - start) // 3600)):
            base = start + hour * 3600
            points = []
            for i in range(int(3600 / interval)):
                ts = base + i * interval
                for m in GAUGES:
                    points.append(Point(host, m, (), ts, round(rng.random(), 4)))
                lat = histograms.from_values([rng.expovariate(20.0) for _ in range(5)])
                points.append(Point(host, LATENCY, (), ts, None, lat))
            store.put_samples(host, points, f"{host}-{hour}", now)
            samples += len(points)
    seed_seconds = time.perf_counter() - t
    t = time.perf_counter()
    run_rollups(store, now, retention_seconds=RETENTION)
    rollup_seconds = time.perf_counter() - t
    day0 = math.floor(now / 86400) * 86400
    history = [
        Rollup("system.cpu.utilization", f"host-{h:03d}", (), "1d", day0 - d * 86400, 1440, 720.0, 0.0, 1.0)
        for h in range(hosts)
        for d in range(8, 366)
    ]
    store.put_rollups(history, now)
    store.close()
    return {
        "hosts": hosts,
        "metrics": len(GAUGES) + 1,
        "interval_s": interval,
        "raw_samples": samples,
        "seed_s": round(seed_seconds, 1),
        "samples_per_s_bulk": round(samples / seed_seconds),
        "rollup_job_s": round(rollup_seconds, 1),
        "daily_history_rollups": len(history),
    }
