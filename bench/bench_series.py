"""Micro-benchmark of the pure series core (`vigil.domain.series`): points aggregated per second.

Not a test: prints figures. Builds ~100k points in memory (what the SQLite path feeds one query),
then times `build_series` for several aggregations and groupings, and `rollup_points` +
`build_series_from_rollups`. Run: `.venv/bin/python bench/bench_series.py [--points N]`.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from collections.abc import Callable

from vigil.domain import histograms
from vigil.domain.models import Point
from vigil.domain.rollups import rollup_points
from vigil.domain.series import build_series, build_series_from_rollups


def make_points(n: int, hosts: int = 100, interval: float = 10.0, hist: bool = False) -> list[Point]:
    rng = random.Random(42)
    per_host = max(1, n // hosts)
    out: list[Point] = []
    for h in range(hosts):
        host = f"web-{h}"
        labels = (("route", "/api"),) if hist else (("cpu", "total"),)
        for i in range(per_host):
            ts = 1_764_000_000.0 + i * interval
            if hist:
                values = [rng.expovariate(20.0) for _ in range(5)]
                out.append(
                    Point(
                        host, "http.server.request.duration", labels, ts, None, histograms.from_values(values)
                    )
                )
            else:
                out.append(Point(host, "system.cpu.utilization", labels, ts, rng.random()))
    return out  # series by series, as the stores return them


def best_of(fn: Callable[[], object], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=100_000)
    args = parser.parse_args()
    plain = make_points(args.points)
    hist = make_points(args.points // 10, hist=True)
    start = min(p.ts for p in plain)
    end = max(p.ts for p in plain)
    step = 60.0
    print(f"python {sys.version.split()[0]} on {platform.machine()} ({platform.processor() or 'cpu'})")
    print(f"{len(plain)} plain points, {len(hist)} histogram points, {end - start:.0f} s, step {step:.0f} s")
    cases: list[tuple[str, list[Point], str, list[str] | None]] = [
        ("avg per series", plain, "avg", None),
        ("avg fleet-wide", plain, "avg", []),
        ("max by host", plain, "max", ["host"]),
        ("p95 fleet-wide (raw values)", plain, "p95", []),
        ("rate per series", plain, "rate", None),
        ("p95 fleet-wide (histograms)", hist, "p95", []),
    ]
    shuffled = list(plain)
    random.Random(1).shuffle(shuffled)
    cases.append(("avg per series, shuffled input", shuffled, "avg", None))
    for name, pts, agg, group_by in cases:
        hist_end = max(p.ts for p in pts)
        secs = best_of(
            lambda pts=pts, agg=agg, group_by=group_by, hist_end=hist_end: build_series(
                pts, start=start, end=hist_end, step=step, agg=agg, group_by=group_by
            )
        )
        print(f"  build_series {name:<30} {len(pts) / secs:>12,.0f} points/s  ({secs * 1000:.1f} ms)")
    t = time.perf_counter()
    rollups = rollup_points(plain, "1h")
    secs = time.perf_counter() - t
    print(
        f"  rollup_points 1h{'':<30} {len(plain) / secs:>12,.0f} points/s  ({secs * 1000:.1f} ms, "
        f"{len(rollups)} rollups)"
    )
    secs = best_of(
        lambda: build_series_from_rollups(rollups, start=start, end=end, step=3600.0, agg="p95", group_by=[])
    )
    print(
        f"  build_series_from_rollups p95 fleet   {len(rollups) / secs:>12,.0f} rollups/s "
        f"({secs * 1000:.1f} ms)"
    )


if __name__ == "__main__":
    main()
