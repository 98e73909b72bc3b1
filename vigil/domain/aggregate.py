"""Per-group aggregation of a rule's window: turns the points the caller fetched into one value per
alert group (`group_by` labels; `host` is the point's host).

- avg/min/max/sum over scalar values; for histogram points avg = Σsum/Σcount, sum = Σsum, count =
  number of observations (Σcount), min/max from the recorded min/max.
- count over scalar points = number of samples.
- rate: per series, the counter increase per second between its first and last point (a drop is a
  counter reset, Prometheus-style), summed over the group's series; histogram points (delta
  temporality) give observations per second over the window.
- p50/p95/p99: histogram points are merged bucket by bucket and the quantile read from the merge
  (never an average of percentiles); scalar points give the exact quantile of the values.
- absent is decided by the evaluator from which groups have points here.
Standard library and `vigil.domain` only.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from vigil.domain.alerts import group_key
from vigil.domain.histograms import merge_all, quantile
from vigil.domain.models import Histogram, Point
from vigil.domain.rules import QUANTILES, Rule


@dataclass(frozen=True)
class GroupValue:
    labels: dict[str, str]
    value: float | None  # None: points were there but nothing to aggregate (e.g. empty histograms)
    last_ts: float


def group_labels(point: Point, group_by: list[str]) -> dict[str, str]:
    labels = dict(point.labels)
    return {key: point.host if key == "host" else labels.get(key, "") for key in group_by}


def aggregate(rule: Rule, points: Iterable[Point], start: float, end: float) -> dict[str, GroupValue]:
    """One value per group from the points with `start < ts <= end` that pass the rule's filter."""
    wanted = rule.filter.labels.items()
    groups: dict[str, list[Point]] = defaultdict(list)
    labels_of: dict[str, dict[str, str]] = {}
    for p in points:
        if not start < p.ts <= end or p.metric != rule.metric:
            continue
        if rule.filter.host is not None and p.host != rule.filter.host:
            continue
        if wanted and not wanted <= dict(p.labels).items():
            continue
        labels = group_labels(p, rule.group_by)
        key = group_key(labels)
        groups[key].append(p)
        labels_of[key] = labels
    out: dict[str, GroupValue] = {}
    for key, pts in groups.items():
        value = _value(rule, pts, end - start)
        out[key] = GroupValue(labels_of[key], value, max(p.ts for p in pts))
    return out


def _value(rule: Rule, points: list[Point], window: float) -> float | None:
    agg = rule.agg
    hists = [p.histogram for p in points if p.histogram is not None]
    values = [p.value for p in points if p.value is not None]
    if agg in QUANTILES:
        if hists:
            merged = merge_all(hists)
            return None if merged is None else quantile(merged, QUANTILES[agg])
        return _exact_quantile(values, QUANTILES[agg])
    if agg == "rate":
        return _rate(points, window)
    if agg == "count" or agg == "absent":
        return float(len(values) + sum(h.count for h in hists))
    if agg == "last":  # the newest plain value: a state the sender keeps (a check's failures in a row)
        plain = [p for p in points if p.value is not None]
        return max(plain, key=lambda p: p.ts).value if plain else None
    if hists and not values:
        return _hist_stat(agg, hists)
    if not values:
        return None
    if agg == "avg":
        return math.fsum(values) / len(values)
    if agg == "sum":
        return math.fsum(values)
    return min(values) if agg == "min" else max(values)


def _hist_stat(agg: str, hists: list[Histogram]) -> float | None:
    count = sum(h.count for h in hists)
    if agg == "sum":
        return math.fsum(h.sum for h in hists)
    if count == 0:
        return None
    if agg == "avg":
        return math.fsum(h.sum for h in hists) / count
    edges = [h.min if agg == "min" else h.max for h in hists if h.count]
    known = [e for e in edges if e is not None]
    if not known:
        return None
    return min(known) if agg == "min" else max(known)


def _rate(points: list[Point], window: float) -> float | None:
    hists = [p.histogram for p in points if p.histogram is not None]
    if hists:
        return sum(h.count for h in hists) / window if window > 0 else None
    by_series: dict[str, list[Point]] = defaultdict(list)
    for p in points:
        if p.value is not None:
            by_series[p.series_key].append(p)
    total: float | None = None
    for series in by_series.values():
        if len(series) < 2:
            continue
        series.sort(key=lambda p: p.ts)
        increase = 0.0
        for prev, cur in itertools.pairwise(series):
            assert prev.value is not None and cur.value is not None
            delta = cur.value - prev.value
            increase += cur.value if delta < 0 else delta  # a drop means the counter restarted
        elapsed = series[-1].ts - series[0].ts
        if elapsed > 0:
            total = (total or 0.0) + increase / elapsed
    return total


def _exact_quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)
