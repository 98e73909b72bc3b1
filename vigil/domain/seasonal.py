"""Seasonal baselines: what a series usually does at this hour of the week, from hourly rollups.

For an hour `h`, the baseline samples are the hourly values of the same series (reduced with the
rule's or chart's aggregation) at `h - w·7d + d` for the past `WEEKS` weeks (w = 1..4) and the
neighbouring hours d ∈ {-1 h, 0, +1 h}: up to 12 values. Pooling the neighbours gives a spread
estimate even with one week of history, and makes the band tolerate a pattern arriving an hour
early or late (a batch job, a daylight-saving shift). The band is `mean ± K · spread`, where spread
is the sample standard deviation of those values, floored at `FLOOR_SHARE` of |mean| so that a series
that repeats exactly does not make every tiny wobble an anomaly.

Why the standard deviation and not the MAD: with at most 12 values the MAD is coarse, and it is zero
whenever half of them are equal (a flat series with one bump), which would make the band collapse;
the price is that one past incident at this hour widens the band for the 4 weeks it is remembered.

No value at `h - 7d ± 1 h` (less than a week of history) means no band: a band rule does not fire and
charts draw none. Standard library and `vigil.domain` only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vigil.domain.aggregate import aggregate
from vigil.domain.rollups import Rollup
from vigil.domain.rule_records import RuleRecord

HOUR = 3600.0
WEEK = 7 * 86400.0
WEEKS = 4
K = 3.0
FLOOR_SHARE = 0.05
NEIGHBOURS = (-HOUR, 0.0, HOUR)


@dataclass(frozen=True)
class Band:
    mean: float
    lower: float
    upper: float
    samples: int

    def contains(self, value: float) -> bool:
        return self.lower <= value <= self.upper


def baseline_hours(hour: float) -> list[float]:
    """The hour starts whose values make the baseline of the hour starting at `hour`."""
    return [hour - w * WEEK + d for w in range(1, WEEKS + 1) for d in NEIGHBOURS]


def band_at(hourly: Mapping[float, float], hour: float) -> Band | None:
    """The band of the hour starting at `hour` from hourly values keyed by hour start, or None when
    last week's hour (± 1 h) has no value: less than a week of history."""
    last_week = [hourly[h] for h in baseline_hours(hour)[: len(NEIGHBOURS)] if h in hourly]
    if not last_week:
        return None
    values = [hourly[h] for h in baseline_hours(hour) if h in hourly]
    mean = math.fsum(values) / len(values)
    import statistics  # band rules only: not on every cold start

    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    spread = max(spread, FLOOR_SHARE * abs(mean))
    return Band(mean, mean - K * spread, mean + K * spread, len(values))


def hour_of(ts: float) -> float:
    return math.floor(ts / HOUR) * HOUR


def group_bands(rule: RuleRecord, baseline: Iterable[Rollup], now: float) -> dict[str, Band]:
    """Per alert group, the band of the hour holding `now`, from the hourly rollups of its baseline
    hours (the rule's `agg` over each hour's rollups of the group)."""
    per_hour: dict[float, list[Rollup]] = {}
    for r in baseline:
        if r.resolution == "1h":
            per_hour.setdefault(r.start, []).append(r)
    hourly: dict[str, dict[float, float]] = {}
    for start, records in per_hour.items():
        for key, gv in aggregate(rule, [], start, start + HOUR, records).items():
            if gv.value is not None:
                hourly.setdefault(key, {})[start] = gv.value
    out: dict[str, Band] = {}
    for key, values in hourly.items():
        band = band_at(values, hour_of(now))
        if band is not None:
            out[key] = band
    return out
