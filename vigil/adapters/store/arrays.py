"""Per-bucket summaries as whole numpy arrays, and their aggregation into series values.

A store that can summarise (count, sum, min, max per series and step bucket) hands back `BucketArrays`
instead of one `Rollup` object per (series, bucket): at 100 hosts x a day at 60 s that was 144,000
dataclasses, accumulators and merges — most of a fleet query's time (docs/architecture.md, "Query
engine"). `group_values` adds them up per (group, bucket) with `np.bincount`, in the same order as
`build_series_from_rollups` adds its accumulators (per series over time in record order, then per group
over series in order of first appearance), so sums are the same floats, not merely close ones.
numpy is imported here and by its callers only (not by `vigil.domain`, not on the Lambda import path of
handlers that never summarise).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from vigil.domain.series import MAX_SERIES, SeriesResult, build_series_from_groups

Labels = tuple[tuple[str, str], ...]
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
ARRAY_AGGS = frozenset({"avg", "sum", "count", "min", "max"})


@dataclass(frozen=True)
class BucketArrays:
    """count/sum/min/max of (series, bucket) cells: `index[k]` is the cell's series (a position in
    `series`: its host and labels), `start[k]` its bucket's start time. Cells with count 0 may be
    present; they are ignored."""

    series: list[tuple[str, Labels]]
    index: Ints
    start: Floats
    count: Floats
    total: Floats
    lo: Floats
    hi: Floats

    @staticmethod
    def from_rows(
        series: list[tuple[str, Labels]],
        ids: Sequence[int] | None,
        rows: Sequence[Sequence[Any]],
        step: float,
    ) -> BucketArrays:
        """From `(series id, bucket number, count, sum, min, max, ...)` rows (a SQL `GROUP BY` by
        `floor(ts / step)`); `ids[k]` is the id of `series[k]` (None: one series, every row its)."""
        if not rows:
            return BucketArrays.empty(series)
        columns = list(zip(*rows, strict=True))
        return BucketArrays(
            series,
            _positions(ids, np.array(columns[0], dtype=np.int64)),
            np.array(columns[1], dtype=np.float64) * step,  # the same float as `bucket * step` in Python
            *(np.array(columns[k], dtype=np.float64) for k in (2, 3, 4, 5)),
        )

    @staticmethod
    def empty(series: list[tuple[str, Labels]]) -> BucketArrays:
        no = np.empty(0, dtype=np.float64)
        return BucketArrays(series, np.empty(0, dtype=np.int64), no, no, no, no, no)


def _positions(ids: Sequence[int] | None, sid: Ints) -> Ints:
    """Each series id's position in `ids` (all 0 when None: one series stands for all)."""
    if ids is None or len(ids) == 1:  # one series read: every id is that one (no search)
        return np.zeros(len(sid), dtype=np.int64)
    known = np.asarray(ids, dtype=np.int64)
    order = np.argsort(known)
    return order[np.searchsorted(known, sid, sorter=order)]


def bucket_cells(
    series: list[tuple[str, Labels]],
    ids: Sequence[int] | None,
    sid: Ints,
    ts: Floats,
    values: Floats,
    step: float,
) -> BucketArrays:
    """Samples (series id, ts, value; sorted by series, then time) summed per (series, `step`
    bucket) — the same cells as SQL's `GROUP BY series_id, CAST(ts / step AS INTEGER)`, with sums
    added in time order. `ids[k]` is the id of `series[k]`; None: every sample counts for `series[0]`."""
    return rollup_cells(series, ids, sid, ts, np.ones(len(ts)), values, values, values, step)


def rollup_cells(
    series: list[tuple[str, Labels]],
    ids: Sequence[int] | None,
    sid: Ints,
    start: Floats,
    count: Floats,
    total: Floats,
    lo: Floats,
    hi: Floats,
    step: float,
) -> BucketArrays:
    """Records (series id, start, count, sum, min, max; sorted by series, then start; NaN: no
    min/max) summed per (series, `step` bucket), sums added in start order, as `bucket_cells` does
    for samples (one sample: a record of count 1)."""
    if not len(start):
        return BucketArrays.empty(series)
    index = _positions(ids, sid)
    bucket = np.floor(start / step).astype(np.int64)
    low = int(bucket.min())
    span = int(bucket.max()) - low + 1
    cells, inverse = _cells(index * span + (bucket - low))
    if inverse is None:  # a record per cell (one series, one sample a bucket): no scatter needed
        # the very floats of the scatter below: fmin/fmax against the empty cell's infinity
        mins, maxs = np.fmin(lo, np.inf), np.fmax(hi, -np.inf)
    else:
        mins = np.full(len(cells), np.inf)
        maxs = np.full(len(cells), -np.inf)
        np.fmin.at(mins, inverse, lo)  # fmin/fmax: a NaN (no min) is skipped, as SQL's min() skips NULL
        np.fmax.at(maxs, inverse, hi)
    return BucketArrays(
        series,
        cells // span,
        (cells % span + low).astype(np.float64) * step,
        _summed(inverse, count, len(cells)).astype(np.float64),
        _summed(inverse, total, len(cells)).astype(np.float64),
        mins,
        maxs,
    )


def _cells(keys: Ints) -> tuple[Ints, Ints | None]:
    """`np.unique(keys, return_inverse=True)`, without its sort when `keys` are strictly increasing
    already (one series' samples, one a bucket: the cells are the keys themselves, and the inverse
    is None: each key is its own cell)."""
    if len(keys) < 2 or bool(np.all(keys[1:] > keys[:-1])):
        return keys, None
    cells, inverse = np.unique(keys, return_inverse=True)
    return cells, inverse


def _summed(inverse: Ints | None, weights: Floats, size: int) -> Floats:
    """`weights` added up per cell (`_cells`' inverse); with None, one weight a cell: 0.0 + each, the
    very floats `np.bincount` makes (-0.0 becomes 0.0) without its scatter."""
    if inverse is None:
        return np.add(weights, 0.0)
    summed: Floats = np.bincount(inverse, weights, size).astype(np.float64, copy=False)
    return summed


def present_series(parts: Sequence[BucketArrays], t0: float, end: float) -> list[tuple[str, Labels]]:
    """(host, labels) of the series with a cell in [t0, end], in order of first appearance across
    `parts` (the order `group_values` expects its `group_of` in)."""
    return [key for key, _ in _ranked(parts, t0, end)[0]]


def _ranked(
    parts: Sequence[BucketArrays], t0: float, end: float
) -> tuple[list[tuple[tuple[str, Labels], int]], list[tuple[BucketArrays, Any, Ints]]]:
    """Series by first appearance (key, and a rank per part-local index), and each part's kept cells
    with their series' rank."""
    ranks: dict[tuple[str, Labels], int] = {}
    kept: list[tuple[BucketArrays, Any, Ints]] = []
    for part in parts:
        mask = (part.start >= t0) & (part.start <= end) & (part.count > 0)
        idx = part.index[mask]
        if not len(idx):
            continue
        uniq, first = np.unique(idx, return_index=True)
        local = np.zeros(len(part.series), dtype=np.int64)
        for pos in uniq[np.argsort(first, kind="stable")].tolist():
            local[pos] = ranks.setdefault(part.series[pos], len(ranks))
        kept.append((part, mask, local[idx]))
    return [(key, rank) for key, rank in ranks.items()], kept


def group_values(
    parts: Sequence[BucketArrays],
    agg: str,
    group_of: list[int],
    groups: int,
    t0: float,
    n: int,
    step: float,
    end: float,
    kept: list[tuple[BucketArrays, Any, Ints]] | None = None,
) -> list[list[float | None]]:
    """Per group, `n` bucket values of `agg` (one of `ARRAY_AGGS`; None for a gap) from the cells in
    [t0, end]. `group_of[r]`: the group of the series ranked `r` by `present_series`. `kept`: the
    parts' cells as `_ranked` keeps them, when the caller has them already."""
    if kept is None:
        _, kept = _ranked(parts, t0, end)
    if not kept or not groups:
        return [[None] * n for _ in range(groups)]
    rank = np.concatenate([r for _, _, r in kept])
    start = np.concatenate([p.start[m] for p, m, _ in kept])
    bucket = np.floor_divide(start - t0, step).astype(np.int64)  # as `int((start - t0) // step)`
    # stage 1, per (series, bucket) in record order; stage 2, per (group, bucket) in series order
    cells, inverse = _cells(rank * n + bucket)
    count: Any = _summed(inverse, np.concatenate([p.count[m] for p, m, _ in kept]), len(cells))
    total: Any = _summed(inverse, np.concatenate([p.total[m] for p, m, _ in kept]), len(cells))
    into = np.asarray(group_of, dtype=np.int64)[cells // n] * n + cells % n
    size = groups * n
    count = np.bincount(into, count, size)
    present = count > 0
    if agg == "count":
        out = count
    elif agg in ("sum", "avg"):
        out = np.bincount(into, total, size)
        if agg == "avg":
            out = np.divide(out, count, out=np.zeros(size), where=present)
    else:
        grouped = into if inverse is None else into[inverse]  # each input cell's (group, bucket)
        values = np.concatenate([(p.lo if agg == "min" else p.hi)[m] for p, m, _ in kept])
        out = np.full(size, np.inf if agg == "min" else -np.inf)
        (np.minimum if agg == "min" else np.maximum).at(out, grouped, values)
    listed: list[float | None] = out.tolist()
    for gap in np.flatnonzero(~present).tolist():  # usually few: no Python pass over every value
        listed[gap] = None
    return [listed[g * n : (g + 1) * n] for g in range(groups)]


class ArrayQuery(Protocol):
    """What `series_from_arrays` needs of a planned query (`services.queries.SeriesQuery`)."""

    @property
    def metric(self) -> str: ...
    @property
    def step(self) -> float: ...
    @property
    def group_by(self) -> list[str] | None: ...


def series_from_arrays(
    parts: Sequence[BucketArrays],
    q: ArrayQuery,
    aggs: Sequence[str],
    start: float,
    end: float,
    resolution: str,
    max_series: int = MAX_SERIES,
) -> list[SeriesResult]:
    """One `SeriesResult` per agg of `aggs` (each in `ARRAY_AGGS`) over [start, end], equal to
    `build_series_from_rollups` over the same cells as `Rollup` records."""
    t0 = math.floor(start / q.step) * q.step
    ranked, kept = _ranked(parts, t0, end)  # `present_series`, and the cells each agg adds up
    series = [key for key, _ in ranked]

    def bucket_starts(at: float, n: int) -> list[float]:
        # `at + i * step` as Python computes it (i exact in float64, one rounding per operation)
        starts: list[float] = (np.arange(n, dtype=np.float64) * q.step + at).tolist()
        return starts

    def answer(agg: str) -> SeriesResult:
        def values(group_of: list[int], groups: int, at: float, n: int) -> list[list[float | None]]:
            return group_values(parts, agg, group_of, groups, at, n, q.step, end, kept if at == t0 else None)

        return build_series_from_groups(
            series,
            values,
            start=start,
            end=end,
            step=q.step,
            agg=agg,
            group_by=q.group_by,
            metric=q.metric,
            resolution=resolution,
            max_series=max_series,
            bucket_starts=bucket_starts,
        )

    return [answer(agg) for agg in aggs]
