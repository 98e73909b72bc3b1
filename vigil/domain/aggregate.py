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

Long windows (`vigil.alerting.windows`) arrive as hourly and daily rollups for their whole hours plus
raw points for the partial hours at either end. A group with rollups is aggregated from summaries: its
raw points are summarised per hour the way the rollup job does (`rollup_points`), then every summary is
merged (`BucketAcc`, per series then across series). avg/min/max/sum/count are what raw points give (up
to the rounding of each hour's float sum); histogram percentiles and histogram rates too (buckets merge
exactly). Approximations, documented in docs/alerting.md: percentiles of plain values come from the
rollups' log sketches (within `sketch.RELATIVE_ERROR`, about 1 %, nearest rank instead of
interpolation); a counter's rate leaves out the one sample gap at each hour boundary (rollups count only
pairs inside an hour), i.e. it is the rate over the seconds the pairs cover.
Standard library and `vigil.domain` only.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from vigil.domain.accumulate import BucketAcc
from vigil.domain.alerts import group_key
from vigil.domain.histograms import merge_all, quantile
from vigil.domain.records import Histogram, Point
from vigil.domain.rollups import Rollup, rollup_points, to_acc
from vigil.domain.rule_records import QUANTILES, RuleRecord


@dataclass(frozen=True)
class GroupValue:
    labels: dict[str, str]
    value: float | None  # None: points were there but nothing to aggregate (e.g. empty histograms)
    last_ts: float


def group_labels(point: Point, group_by: list[str]) -> dict[str, str]:
    return _labels_of(point.host, point.labels, group_by)


def aggregate(
    rule: RuleRecord, points: Iterable[Point], start: float, end: float, rollups: Iterable[Rollup] = ()
) -> dict[str, GroupValue]:
    """One value per group from the points with `start < ts <= end` that pass the rule's filter, and
    from `rollups`: hourly or daily summaries of whole hours inside the window that `points` do not
    cover (the caller's promise; a long window's middle)."""
    groups: dict[str, list[Point]] = defaultdict(list)
    summaries: dict[str, list[Rollup]] = defaultdict(list)
    labels_of: dict[str, dict[str, str]] = {}
    for p in points:
        if start < p.ts <= end and passes(rule, p.metric, p.host, p.labels):
            labels = group_labels(p, rule.group_by)
            key = group_key(labels)
            groups[key].append(p)
            labels_of[key] = labels
    for r in rollups:
        if passes(rule, r.metric, r.host, r.labels):
            labels = _labels_of(r.host, r.labels, rule.group_by)
            key = group_key(labels)
            summaries[key].append(r)
            labels_of[key] = labels
    out: dict[str, GroupValue] = {}
    for key, labels in labels_of.items():
        pts = groups.get(key, [])
        last = max([p.ts for p in pts] + [_last_ts(r) for r in summaries.get(key, [])])
        if key in summaries:
            value = _summary_value(rule, [*rollup_points(pts, "1h"), *summaries[key]], end - start)
        else:
            value = _value(rule, pts, end - start)
        out[key] = GroupValue(labels, value, last)
    return out


def passes(rule: RuleRecord, metric: str, host: str, labels: tuple[tuple[str, str], ...]) -> bool:
    """Whether a point or rollup of this series is one the rule looks at (metric and filter)."""
    if metric != rule.metric or rule.filter.host not in (None, host):
        return False
    wanted = rule.filter.labels.items()
    return not wanted or wanted <= dict(labels).items()


def _labels_of(host: str, labels: tuple[tuple[str, str], ...], group_by: list[str]) -> dict[str, str]:
    as_dict = dict(labels)
    return {key: host if key == "host" else as_dict.get(key, "") for key in group_by}


def _last_ts(r: Rollup) -> float:
    return r.last_ts if r.last_ts is not None else r.start


def _summary_value(rule: RuleRecord, records: list[Rollup], window: float) -> float | None:
    """`rule.agg` over summaries: merged per series in time, then across series (so a counter's
    rate is per series first, like the raw path)."""
    per_series: dict[str, BucketAcc] = {}
    for r in records:
        acc = to_acc(r)
        if r.series_key in per_series:
            per_series[r.series_key].merge_time(acc)
        else:
            per_series[r.series_key] = acc
    total = BucketAcc()
    for acc in per_series.values():
        total.merge_series(acc)
    if rule.agg in ("count", "absent"):
        return float(total.count)
    return total.result(rule.agg, window)


def _value(rule: RuleRecord, points: list[Point], window: float) -> float | None:
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
