"""The log-bucket sketch used for rolled-up plain values keeps its relative-error promise."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from vigil.domain import sketch

values_st = st.lists(
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False).filter(lambda v: v == 0 or abs(v) >= 1e-6),
    min_size=1,
    max_size=200,
)


@given(values_st, st.floats(0.0, 1.0))
def test_sketch_quantile_is_within_relative_error_of_the_nearest_rank_quantile(values, q):
    got = sketch.quantile(sketch.add_values({}, values), q, min(values), max(values))
    ordered = sorted(values)
    true = ordered[max(1, math.ceil(q * len(ordered))) - 1]
    assert got is not None and abs(got - true) <= sketch.RELATIVE_ERROR * abs(true) * (1 + 1e-9)


@given(values_st, values_st)
def test_merging_sketches_equals_sketching_the_concatenated_values(a, b):
    merged = sketch.merge_into(sketch.add_values({}, a), sketch.add_values({}, b))
    assert merged == sketch.add_values({}, a + b)
    assert sketch.from_json(sketch.to_json(merged)) == merged
