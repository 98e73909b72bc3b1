"""Linear forecasts, like Prometheus' `predict_linear`: a least-squares line through a window's values,
read `horizon` seconds after the window's end.

A forecast rule (`RuleRecord.forecast`) first reduces its window to one value per group and step with its own
`agg` (`aggregate` on each step's points; each hourly or daily rollup of a long window is one step of
its own), placed at the mean time of the step's samples (a rollup: the middle of its bucket). The line
is then fitted through those (time, value) pairs per group: averaging a step first keeps one dense host
from outweighing the others, and taking the mean sample time makes the fit exact on a linear series
(the mean of a line's values is the line at the mean time). A group is forecast only when its steps
span at least half the window (a host that just appeared has no trend yet) and there are at least
`MIN_STEPS` of them. Standard library and `vigil.domain` only.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from vigil.domain.aggregate import GroupValue, aggregate, group_labels, passes
from vigil.domain.alerts import group_key
from vigil.domain.records import Point
from vigil.domain.rollups import RESOLUTION_SECONDS, Rollup
from vigil.domain.rule_records import RuleRecord

STEPS_PER_WINDOW = 60  # raw points are reduced to this many steps per window before the fit
MIN_STEPS = 3


@dataclass(frozen=True)
class Line:
    """y = level + slope * (x - at): `at` is the mean x of the fit (kept for numerical stability)."""

    slope: float
    at: float
    level: float

    def value(self, x: float) -> float:
        return self.level + self.slope * (x - self.at)


def fit_line(xs: Sequence[float], ys: Sequence[float]) -> Line | None:
    """Ordinary least squares through (xs, ys); None with fewer than 2 distinct xs."""
    n = len(xs)
    if n < 2 or n != len(ys):
        return None
    mx = math.fsum(xs) / n
    my = math.fsum(ys) / n
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    if sxx <= 0:
        return None
    sxy = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return Line(sxy / sxx, mx, my)


def forecast_groups(
    rule: RuleRecord, points: Iterable[Point], start: float, end: float, rollups: Iterable[Rollup] = ()
) -> dict[str, GroupValue]:
    """Per group, the value the line through the window `(start, end]` predicts at `end + rule.forecast`
    (None when the group has too little history for a trend)."""
    assert rule.forecast is not None
    step = (end - start) / STEPS_PER_WINDOW
    buckets: dict[int, list[Point]] = defaultdict(list)
    for p in points:
        if start < p.ts <= end:
            buckets[math.floor((p.ts - start) / step)].append(p)
    by_rollup: dict[tuple[str, float], list[Rollup]] = defaultdict(list)
    for r in rollups:
        by_rollup[(r.resolution, r.start)].append(r)
    samples: dict[str, list[tuple[float, float]]] = defaultdict(list)
    labels: dict[str, GroupValue] = {}
    for bucket in buckets.values():
        times: dict[str, list[float]] = defaultdict(list)
        for p in bucket:
            if passes(rule, p.metric, p.host, p.labels):
                times[group_key(group_labels(p, rule.group_by))].append(p.ts)
        for key, gv in aggregate(rule, bucket, start, end).items():
            if gv.value is not None:
                samples[key].append((math.fsum(times[key]) / len(times[key]), gv.value))
            labels[key] = _latest(labels.get(key), gv)
    for (resolution, bucket_start), records in by_rollup.items():
        mid = bucket_start + RESOLUTION_SECONDS[resolution] / 2
        for key, gv in aggregate(rule, [], start, end, records).items():
            if gv.value is not None:
                samples[key].append((mid, gv.value))
            labels[key] = _latest(labels.get(key), gv)
    out: dict[str, GroupValue] = {}
    for key, gv in labels.items():
        pairs = samples.get(key, [])
        xs = [x for x, _ in pairs]
        line = fit_line(xs, [y for _, y in pairs])
        enough = len(pairs) >= MIN_STEPS and line is not None and max(xs) - min(xs) >= (end - start) / 2
        value = line.value(end + rule.forecast) if enough and line is not None else None
        out[key] = GroupValue(gv.labels, value, gv.last_ts)
    return out


def _latest(before: GroupValue | None, gv: GroupValue) -> GroupValue:
    return gv if before is None or gv.last_ts >= before.last_ts else before


def series_forecast(
    timestamps: Sequence[float], values: Sequence[float | None], end: float, horizon: float
) -> dict[str, Any] | None:
    """The forecast line of one chart series: fitted through its non-empty steps, drawn from the last
    step to `end + horizon` (two points: a straight line). None with fewer than `MIN_STEPS` values."""
    pairs = [(t, v) for t, v in zip(timestamps, values, strict=True) if v is not None]
    line = fit_line([t for t, _ in pairs], [v for _, v in pairs]) if len(pairs) >= MIN_STEPS else None
    if line is None:
        return None
    xs = [pairs[-1][0], end + horizon]
    return {"timestamps": xs, "values": [line.value(x) for x in xs], "slope_per_day": line.slope * 86400.0}
