"""Fleet rollups: per-minute (and per-hour) aggregates of each (metric, label set) across every host.

A fleet record is a `Rollup` whose `host` is `FLEET_HOST`: count, sum, min, max, the merged histogram
(histogram samples) or the merged sketch (plain values) of every host's samples of that metric and label
set in the bucket. Fleet charts, the overview and fleet-wide reads merge these records instead of one
read per host, so their cost depends on the buckets, not on the hosts (docs/data-model.md).

No sketches. A plain metric's log-bucket sketch merged across 1,000 hosts holds hundreds of buckets
(about 5 KB per metric and label set per minute): it would make the fleet tier cost more than the
charts it serves. Fleet records keep histograms (exact percentiles of histogram metrics) but drop the
sketch, so fleet-wide percentiles of plain values are answered from the hosts' own data instead.

Counter rates. Per-series rates add up across hosts (`sum(rate(...))`), but a rollup stores `increase`
and `seconds`, and merging two rollups over time adds both. A fleet record therefore stores its rate
normalised to the bucket: `seconds` = the bucket width and `increase` = width x the sum of the hosts'
rates, so `increase / seconds` is the fleet rate and a time merge (minutes into an hour) averages the
minute rates, as it should.

Standard library only (plus `vigil.domain`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from vigil.domain.models import Point
from vigil.domain.rollups import RESOLUTION_SECONDS, Rollup, coarsen, rollup_points

FLEET_HOST = "*"  # the host of every fleet record (never a real host name: hosts match [A-Za-z0-9._-])
FLEET_MINUTE = "1m"
FLEET_HOUR = "1h"


def fleet_rollups(points: Iterable[Point], resolution: str = FLEET_MINUTE) -> list[Rollup]:
    """One fleet record per (metric, labels, bucket) present in `points` (any hosts), sorted by
    (series key, start). A pure function of the set of points, like `rollup_points`.

    Raises:
        KeyError: unknown resolution.
    """
    return merge_hosts(rollup_points(points, resolution))


def merge_hosts(rollups: Iterable[Rollup]) -> list[Rollup]:
    """Per-host rollups of one resolution merged into fleet records (see the module for rates)."""
    rates: dict[tuple[str, tuple[tuple[str, str], ...], float], float] = {}
    stripped = []
    for r in rollups:
        key = (r.metric, r.labels, r.start)
        if r.seconds > 0:
            rates[key] = rates.get(key, 0.0) + r.increase / r.seconds
        stripped.append(replace(r, host=FLEET_HOST, increase=0.0, seconds=0.0, sketch={}))
    merged = coarsen(stripped, stripped[0].resolution) if stripped else []
    out = []
    for r in merged:
        rate = rates.get((r.metric, r.labels, r.start))
        if rate is not None:
            width = RESOLUTION_SECONDS[r.resolution]
            r = replace(r, increase=rate * width, seconds=width)
        out.append(r)
    return out


def fleet_hours(minutes: Iterable[Rollup]) -> list[Rollup]:
    """Fleet minute records rolled up to hours (normalised rates average over the minutes)."""
    hours = coarsen(minutes, FLEET_HOUR)
    return [
        replace(r, increase=r.increase * RESOLUTION_SECONDS[FLEET_HOUR] / r.seconds, seconds=3600.0)
        if r.seconds > 0
        else r
        for r in hours
    ]
