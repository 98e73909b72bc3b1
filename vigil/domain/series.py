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

Validation and step/resolution planning live in `planning`, the result shapes and grouping in
`series_grid`, the rollup and array builders in `series_rollups` (all re-exported here).
Hot path: plain dicts, lists and one slotted accumulator per (group, bucket); no pydantic per point.
Standard library only (plus `vigil.domain`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from vigil.domain.accumulate import PERCENTILES, BucketAcc, counter_increase, summarise_values
from vigil.domain.planning import (
    MAX_POINTS,
    choose_resolution,
    choose_step,
    plan_step,
    validate_query,
)
from vigil.domain.records import Point
from vigil.domain.series_grid import MAX_SERIES, Grid, Labels, SeriesEntry, SeriesResult, finish, open_grid
from vigil.domain.series_rollups import build_series_from_groups, build_series_from_rollups

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
    grid, t0 = open_grid(start, end, step, agg, group_by, max_series)
    first_metric: str | None = None
    if agg == "rate":
        first_metric = _rate_points(points, grid, start, end, t0, step)
    else:
        first_metric = _collect(
            points, grid, start, end, t0, step, keep=agg in PERCENTILES, keep_ts=agg == "last"
        )
    return finish(grid, metric or first_metric or "", agg, step, resolution, t0, start, end)


def _collect(
    points: Iterable[Point],
    grid: Grid,
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
    points: Iterable[Point], grid: Grid, start: float, end: float, t0: float, step: float
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
