"""Series results from rollup records or from values aggregated elsewhere (whole arrays: `services.
series_arrays`), laid out exactly as `series.build_series` lays out raw points (`series_grid`).
Standard library only (plus `vigil.domain`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from vigil.domain.accumulate import BucketAcc
from vigil.domain.planning import validate_query
from vigil.domain.rollups import Rollup, to_acc
from vigil.domain.series_grid import MAX_SERIES, Labels, SeriesResult, finish, open_grid


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
    one = build_aggs_from_rollups(
        rollups,
        (agg,),
        start=start,
        end=end,
        step=step,
        group_by=group_by,
        metric=metric,
        max_series=max_series,
    )
    return one[0]


def build_aggs_from_rollups(
    rollups: Iterable[Rollup],
    aggs: Sequence[str],
    *,
    start: float,
    end: float,
    step: float,
    group_by: str | Sequence[str] | None = None,
    metric: str | None = None,
    max_series: int = MAX_SERIES,
) -> list[SeriesResult]:
    """`build_series_from_rollups` of each of `aggs`, the records merged into the buckets once (the
    overview's p50, p95, p99 and rate of one read merged its records four times)."""
    grid, t0 = open_grid(start, end, step, aggs[0], group_by, max_series)
    for agg in aggs[1:]:
        validate_query(start, end, step, agg)
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
    name = metric or first_metric or ""
    return [finish(grid, name, agg, step, resolution, t0, start, end) for agg in aggs]


GroupValues = Callable[[list[int], int, float, int], list[list[float | None]]]
BucketStarts = Callable[[float, int], list[float]]


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
    bucket_starts: BucketStarts | None = None,
) -> SeriesResult:
    """The same result as `build_series_from_rollups`, with the numbers computed elsewhere (whole
    arrays at once: `services.series_arrays`). `series`: (host, labels) of every series with data in
    range; `aggregate(group_of, groups, t0, n)` gets each series' group index and returns, per group,
    its `n` bucket values (None for a gap) from bucket start `t0` on; `bucket_starts(t0, n)`, when
    given, the `n` bucket starts (`t0 + i * step`, the same floats). Grouping, limits and the output
    layout are this module's.

    Raises:
        Invalid: see `validate_query`, `parse_group_by`.
        TooLarge: more than `max_series` output series (field "group_by").
    """
    grid, t0 = open_grid(start, end, step, agg, group_by, max_series)
    group_of = [grid.group(host, labels) for host, labels in series]
    grid.pre = aggregate(group_of, len(grid.rows), t0, grid.n)
    timestamps = None if bucket_starts is None else bucket_starts(t0, grid.n)
    return finish(grid, metric, agg, step, resolution, t0, start, end, timestamps)
