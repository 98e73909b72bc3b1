"""Series queries: the columnar result `/api/metrics/series` returns, from raw points or rollups.

`build_series` turns raw points into the SPEC §4 shape (`timestamps` = bucket starts, one `values` list
per series, None for gaps, ready for uPlot); `build_series_from_rollups` does the same from hourly or
daily rollups through the same accumulator (`accumulate.BucketAcc`), so both paths agree.

Grouping (`group_by`):
  - None (default): one series per stored series, i.e. per host + full label set.
  - `[]`, `"none"` or `["none"]`: one fleet-wide series.
  - a list of dimensions: `"host"` is the host; `"label:NAME"` or plain `"NAME"` is the value of label
    NAME (use `label:host` for a label literally called host). Points without that label form the group
    where it is absent (the label is then omitted from the output `labels`). Strings may be comma-
    separated (`"host,label:route"`), as they arrive in a query string.
Within a group, `agg` is computed over all raw samples of the group in the bucket (exact avg, sum,
count, min, max; percentiles from all values or merged histograms); `last` is the newest sample of the
group; `rate` is the sum of the per-series counter rates (PromQL `sum(rate(...))`); for histogram
metrics `rate` is observations per second and `count`/`sum`/`avg` refer to observations.

Validation and step/resolution planning live in `planning` (re-exported here).
Hot path: plain dicts, lists and one slotted accumulator per (group, bucket); no pydantic per point.
Standard library only (plus `vigil.domain`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NotRequired, TypedDict

from vigil.domain.accumulate import PERCENTILES, BucketAcc, counter_increase, summarise_values
from vigil.domain.errors import TooLarge
from vigil.domain.models import Point
from vigil.domain.planning import (
    MAX_POINTS,
    bucket_count,
    choose_resolution,
    choose_step,
    parse_group_by,
    plan_step,
    validate_query,
)
from vigil.domain.rollups import Rollup, to_acc

# `choose_step`, `choose_resolution`, `plan_step` live in `planning`; re-exported for the API layer.
__all__ = [
    "MAX_POINTS",
    "MAX_SERIES",
    "SeriesEntry",
    "SeriesResult",
    "build_series",
    "build_series_from_groups",
    "build_series_from_rollups",
    "choose_resolution",
    "choose_step",
    "plan_step",
    "validate_query",
]

MAX_SERIES = 500

Labels = tuple[tuple[str, str], ...]
GroupKey = tuple[str | None, ...]


class SeriesEntry(TypedDict):
    host: str | None
    labels: dict[str, str]
    values: list[float | None]
    agg: NotRequired[str]  # only in answers to several aggregations (`agg=p50,p95`)
    # chart overlays, only when asked (`services.overlays`)
    forecast: NotRequired[dict[str, Any] | None]
    band: NotRequired[dict[str, list[float | None]]]
    offset_values: NotRequired[list[float | None]]


class SeriesResult(TypedDict):
    metric: str
    agg: str
    step: float
    resolution: str
    timestamps: list[float]
    series: list[SeriesEntry]
    forecast: NotRequired[float]
    band: NotRequired[dict[str, Any]]
    offset: NotRequired[float]


# ---------------------------------------------------------------------------------------- grouping


def _grouper(dims: tuple[str, ...] | None) -> Callable[[str, Labels], GroupKey]:
    if dims is None:
        return lambda host, labels: (host, *(f"{k}={v}" for k, v in labels))
    names = [d[6:] if d.startswith("label:") else None for d in dims]

    def key(host: str, labels: Labels) -> GroupKey:
        lab = dict(labels)
        return tuple(host if name is None else lab.get(name) for name in names)

    return key


def _describe(
    dims: tuple[str, ...] | None, host: str, labels: Labels, key: GroupKey
) -> tuple[str | None, dict[str, str]]:
    if dims is None:
        return host, dict(labels)
    out_host: str | None = None
    out_labels: dict[str, str] = {}
    for dim, value in zip(dims, key, strict=True):
        if dim == "host":
            out_host = value
        elif value is not None:
            out_labels[dim[6:]] = value
    return out_host, out_labels


class _Grid:
    """Accumulators per (group, bucket) and the output layout."""

    def __init__(self, dims: tuple[str, ...] | None, n: int, max_series: int, agg: str) -> None:
        self.dims = dims
        self.agg = agg
        self.n = n
        self.max_series = max_series
        self.key_of = _grouper(dims)
        self.rows: list[list[BucketAcc | None]] = []
        self.meta: list[tuple[str | None, dict[str, str]]] = []
        self.index: dict[GroupKey, int] = {}
        self.cache: dict[tuple[str, Labels], int] = {}  # series -> group index
        self.pre: list[list[float | None]] = []  # results already computed from plain values

    def row(self, host: str, labels: Labels) -> list[BucketAcc | None]:
        g = self.cache.get((host, labels))
        return self.rows[self.group(host, labels) if g is None else g]

    def group(self, host: str, labels: Labels) -> int:
        """Index of the group a series belongs to, creating it on first sight.

        Raises:
            TooLarge: more than `max_series` groups.
        """
        gk = self.key_of(host, labels)
        g = self.index.get(gk)
        if g is None:
            if len(self.rows) >= self.max_series:
                raise TooLarge(
                    f"the query matches more than {self.max_series} series; filter by host or use group_by",
                    field="group_by",
                )
            g = self.index[gk] = len(self.rows)
            self.rows.append([None] * self.n)
            self.meta.append(_describe(self.dims, host, labels, gk))
        self.cache[(host, labels)] = g
        return g


def _finish(
    grid: _Grid, metric: str, agg: str, step: float, resolution: str, t0: float, start: float, end: float
) -> SeriesResult:
    timestamps = [t0 + i * step for i in range(grid.n)]
    covered = [min(t + step, end) - max(t, start) for t in timestamps]
    if grid.n and end == timestamps[-1]:  # the last bucket holds only the instant `end`
        covered[-1] = step
    series: list[SeriesEntry] = []
    order = sorted(
        range(len(grid.rows)), key=lambda g: (grid.meta[g][0] or "", sorted(grid.meta[g][1].items()))
    )
    for g in order:
        host, labels = grid.meta[g]
        values = [None if a is None else a.result(agg, covered[i]) for i, a in enumerate(grid.rows[g])]
        if g < len(grid.pre):
            values = [v if p is None else p for v, p in zip(values, grid.pre[g], strict=True)]
        series.append({"host": host, "labels": labels, "values": values})
    return {
        "metric": metric,
        "agg": agg,
        "step": step,
        "resolution": resolution,
        "timestamps": timestamps,
        "series": series,
    }


def build_series(
    points: Iterable[Point],
    *,
    start: float,
    end: float,
    step: float,
    agg: str,
    group_by: str | Sequence[str] | None = None,
    metric: str | None = None,
    resolution: str = "raw",
    max_series: int = MAX_SERIES,
) -> SeriesResult:
    """Aggregate raw points into buckets of `step` seconds aligned to multiples of `step`, covering
    [start, end]; points outside [start, end] are ignored. `metric` defaults to the first point's.

    Raises:
        Invalid: see `validate_query`, `parse_group_by`.
        TooLarge: more than `max_series` output series (field "group_by").
    """
    validate_query(start, end, step, agg)
    dims = parse_group_by(group_by)
    t0 = math.floor(start / step) * step
    n = bucket_count(start, end, step)
    grid = _Grid(dims, n, max_series, agg)
    first_metric: str | None = None
    if agg == "rate":
        first_metric = _rate_points(points, grid, start, end, t0, step)
    else:
        first_metric = _collect(
            points, grid, start, end, t0, step, keep=agg in PERCENTILES, keep_ts=agg == "last"
        )
    return _finish(grid, metric or first_metric or "", agg, step, resolution, t0, start, end)


def _collect(
    points: Iterable[Point],
    grid: _Grid,
    start: float,
    end: float,
    t0: float,
    step: float,
    *,
    keep: bool,
    keep_ts: bool,
) -> str | None:
    """The hot loop: append each plain value to its (group, bucket) list, then summarise each list with
    C builtins (`sum`, `min`, `max`); histograms are merged straight into the accumulator."""
    n = grid.n
    cache = grid.cache
    vrows: list[list[list[float] | None]] = []
    trows: list[list[list[float] | None]] = []
    first_metric: str | None = None
    last_host: str | None = None
    last_labels: Labels | None = None
    g = 0
    vrow: list[list[float] | None] = []
    trow: list[list[float] | None] = []
    for p in points:
        ts = p.ts
        if ts < start or ts > end:
            continue
        # stores return points series by series, sharing the host and labels objects: an identity check
        # skips hashing the labels for all but the first point of each series
        if p.labels is not last_labels or p.host is not last_host:
            last_host, last_labels = p.host, p.labels
            found = cache.get((p.host, p.labels))
            if found is None:
                found = grid.group(p.host, p.labels)
                while len(vrows) < len(grid.rows):
                    vrows.append([None] * n)
                    trows.append([None] * n)
                first_metric = first_metric or p.metric
            g, vrow, trow = found, vrows[found], trows[found]
        i = int((ts - t0) // step)
        if i >= n:  # float rounding at `end` with fractional steps
            i = n - 1
        v = p.value
        if p.histogram is not None:
            row = grid.rows[g]
            acc = row[i]
            if acc is None:
                acc = row[i] = BucketAcc()
            acc.add_histogram(ts, p.histogram)
        elif v is not None:
            cell = vrow[i]
            if cell is None:
                vrow[i] = [v]
                if keep_ts:
                    trow[i] = [ts]
            else:
                cell.append(v)
                if keep_ts:
                    trow[i].append(ts)  # type: ignore[union-attr]
    agg = grid.agg
    for g, vrow in enumerate(vrows):
        row = grid.rows[g]
        pre: list[float | None] = [None] * n
        grid.pre.append(pre)
        for i, cell in enumerate(vrow):
            if cell is None:
                continue
            acc = row[i]
            if acc is None:  # plain values only: summarise the list directly (10x cheaper than an acc)
                pre[i] = summarise_values(cell, trows[g][i], agg)
            else:
                acc.add_many(cell, trows[g][i], keep)
    return first_metric


def _rate_points(
    points: Iterable[Point], grid: _Grid, start: float, end: float, t0: float, step: float
) -> str | None:
    """Counter rates: pair consecutive samples per series, credit each increase to the bucket of the
    later sample, then add the per-series rates into their group."""
    by_series: dict[tuple[str, Labels], list[tuple[float, float]]] = {}
    hists: dict[tuple[str, Labels], list[Point]] = {}
    first_metric: str | None = None
    for p in points:
        if p.ts < start or p.ts > end:
            continue
        first_metric = first_metric or p.metric
        if p.histogram is not None:
            hists.setdefault((p.host, p.labels), []).append(p)
        elif p.value is not None:
            by_series.setdefault((p.host, p.labels), []).append((p.ts, p.value))
    for (host, labels), hpoints in hists.items():
        row = grid.row(host, labels)
        for p in hpoints:
            assert p.histogram is not None
            i = int((p.ts - t0) // step)
            acc = row[i] = row[i] or BucketAcc()
            acc.add_histogram(p.ts, p.histogram)
    n = grid.n
    for (host, labels), samples in by_series.items():
        samples.sort()
        increase = [0.0] * n
        seconds = [0.0] * n
        for ts, inc, secs in counter_increase(samples):
            i = min(int((ts - t0) // step), n - 1)
            increase[i] += inc
            seconds[i] += secs
        g = grid.group(host, labels)
        while len(grid.pre) <= g:
            grid.pre.append([None] * n)
        pre = grid.pre[g]
        for i, secs in enumerate(seconds):
            if secs > 0:  # same as BucketAcc.merge_series: the group's rate is the sum of series rates
                pre[i] = (pre[i] or 0.0) + increase[i] / secs
    return first_metric


def build_series_from_rollups(
    rollups: Iterable[Rollup],
    *,
    start: float,
    end: float,
    step: float,
    agg: str,
    group_by: str | Sequence[str] | None = None,
    metric: str | None = None,
    max_series: int = MAX_SERIES,
) -> SeriesResult:
    """The same result as `build_series`, answered from rollup records (all of one resolution, which
    `step` must be a multiple of). A rollup belongs to the bucket holding its start.

    Raises:
        Invalid: see `validate_query`, `parse_group_by`.
        TooLarge: more than `max_series` output series (field "group_by").
    """
    validate_query(start, end, step, agg)
    dims = parse_group_by(group_by)
    t0 = math.floor(start / step) * step
    n = bucket_count(start, end, step)
    grid = _Grid(dims, n, max_series, agg)
    per_series: dict[tuple[str, Labels], dict[int, BucketAcc]] = {}
    resolution = "1h"
    first_metric: str | None = None
    for r in rollups:
        if r.start < t0 or r.start > end:
            continue
        resolution, first_metric = r.resolution, first_metric or r.metric
        i = int((r.start - t0) // step)
        own = per_series.setdefault((r.host, r.labels), {})
        acc = own.get(i)
        if acc is None:
            own[i] = to_acc(r)
        else:
            acc.merge_time(to_acc(r))
    for (host, labels), own in per_series.items():
        row = grid.row(host, labels)
        for i, piece in own.items():
            acc = row[i] = row[i] or BucketAcc()
            acc.merge_series(piece)
    return _finish(grid, metric or first_metric or "", agg, step, resolution, t0, start, end)


GroupValues = Callable[[list[int], int, float, int], list[list[float | None]]]


def build_series_from_groups(
    series: Sequence[tuple[str, Labels]],
    aggregate: GroupValues,
    *,
    start: float,
    end: float,
    step: float,
    agg: str,
    group_by: str | Sequence[str] | None,
    metric: str,
    resolution: str,
    max_series: int = MAX_SERIES,
) -> SeriesResult:
    """The same result as `build_series_from_rollups`, with the numbers computed elsewhere (whole
    arrays at once: `services.series_arrays`). `series`: (host, labels) of every series with data in
    range; `aggregate(group_of, groups, t0, n)` gets each series' group index and returns, per group,
    its `n` bucket values (None for a gap) from bucket start `t0` on. Grouping, limits and the
    output layout are this module's.

    Raises:
        Invalid: see `validate_query`, `parse_group_by`.
        TooLarge: more than `max_series` output series (field "group_by").
    """
    validate_query(start, end, step, agg)
    t0 = math.floor(start / step) * step
    n = bucket_count(start, end, step)
    grid = _Grid(parse_group_by(group_by), n, max_series, agg)
    group_of = [grid.group(host, labels) for host, labels in series]
    grid.pre = aggregate(group_of, len(grid.rows), t0, n)
    return _finish(grid, metric, agg, step, resolution, t0, start, end)
