"""`series_from_arrays` (numpy over whole columns) against `build_series_from_rollups` over the same
cells as `Rollup` records: the same numbers to the last bit, the same series, gaps and groups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.adapters.store.arrays import ARRAY_AGGS, BucketArrays, series_from_arrays
from vigil.domain.errors import TooLarge
from vigil.domain.rollups import Rollup
from vigil.domain.series import build_series_from_rollups

T0 = 1_764_000_000.0
SERIES = [
    ("h0", ()),
    ("h1", ()),
    ("h0", (("route", "/a"),)),
    ("h2", (("route", "/b"),)),
    ("h1", (("cpu", "0"), ("route", "/a"))),
]


@dataclass
class Query:
    metric: str
    step: float
    group_by: list[str] | None


finite = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False)
cell_st = st.tuples(
    st.integers(0, len(SERIES) - 1), st.integers(-3, 40), st.integers(0, 5), finite, finite, finite
)
part_st = st.lists(cell_st, max_size=40)


def as_arrays(cells: list[tuple[int, int, int, float, float, float]], step: float) -> BucketArrays:
    if not cells:
        return BucketArrays.empty(SERIES)
    index, bucket, count, total, lo, hi = map(list, zip(*cells, strict=True))
    return BucketArrays(
        SERIES,
        np.array(index, dtype=np.int64),
        np.array([(T0 // step + b) * step for b in bucket], dtype=np.float64),
        np.array(count, dtype=np.float64),
        np.array(total, dtype=np.float64),
        np.array([min(a, b) for a, b in zip(lo, hi, strict=True)], dtype=np.float64),
        np.array([max(a, b) for a, b in zip(lo, hi, strict=True)], dtype=np.float64),
    )


def as_rollups(parts: list[BucketArrays]) -> list[Rollup]:
    return [
        Rollup("m", *part.series[i], "raw", t, int(c), s, lo, hi)
        for part in parts
        for i, t, c, s, lo, hi in zip(
            part.index.tolist(),
            part.start.tolist(),
            part.count.tolist(),
            part.total.tolist(),
            part.lo.tolist(),
            part.hi.tolist(),
            strict=True,
        )
        if c
    ]


def _unsigned_zeros(value: Any) -> Any:
    """-0.0 as 0.0: of two equal extremes 0.0 and -0.0 Python's `min` keeps the first, numpy's
    `minimum` the negative one — the same number, whose sign no chart or alert can tell apart."""
    if isinstance(value, float):
        return value + 0.0
    if isinstance(value, dict):
        return {k: _unsigned_zeros(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_unsigned_zeros(v) for v in value]
    return value


def same(a: Any, b: Any) -> bool:
    """Equal, with floats compared bit for bit but for the sign of zero (NaN never appears: inputs
    are finite)."""
    return repr(_unsigned_zeros(a)) == repr(_unsigned_zeros(b))


@given(
    parts=st.lists(part_st, min_size=1, max_size=3),
    span=st.tuples(st.integers(-2, 30), st.integers(0, 45)),
    step=st.sampled_from([1.0, 7.0, 60.0, 300.0]),
    group_by=st.sampled_from([None, ["host"], [], ["label:route"], ["host", "label:route"]]),
)
def test_array_aggregation_equals_the_rollup_path_bit_for_bit(
    parts: list[list[tuple[int, int, int, float, float, float]]],
    span: tuple[int, int],
    step: float,
    group_by: list[str] | None,
) -> None:
    arrays = [as_arrays(cells, step) for cells in parts]
    base = (T0 // step) * step
    start = base + (span[0] + 0.5) * step
    end = start + (span[1] + 0.25) * step
    q = Query("m", step, group_by)
    got = series_from_arrays(arrays, q, sorted(ARRAY_AGGS), start, end, "raw")
    for agg, answer in zip(sorted(ARRAY_AGGS), got, strict=True):
        expected = build_series_from_rollups(
            as_rollups(arrays), start=start, end=end, step=step, agg=agg, group_by=group_by, metric="m"
        )
        expected["resolution"] = "raw"  # the rollup path names the records' resolution, "1h" when none
        assert same(answer, expected), agg


def test_array_aggregation_refuses_more_groups_than_the_limit_as_the_rollup_path_does() -> None:
    cells = [(i, 1, 1, 1.0, 1.0, 1.0) for i in range(len(SERIES))]
    q = Query("m", 60.0, None)
    arrays = [as_arrays(cells, 60.0)]
    with pytest.raises(TooLarge):
        build_series_from_rollups(
            as_rollups(arrays), start=T0, end=T0 + 600, step=60.0, agg="avg", max_series=2
        )
    with pytest.raises(TooLarge):
        series_from_arrays(arrays, q, ["avg"], T0, T0 + 600, "raw", max_series=2)
