"""Explicit-bucket histograms: merge and quantile checked against brute force over the raw values."""

from __future__ import annotations

import math
from bisect import bisect_left

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.domain import histograms
from vigil.domain.models import Histogram

values_st = st.lists(st.floats(min_value=0.0, max_value=50.0, allow_nan=False), min_size=1, max_size=200)
bounds_st = st.lists(
    st.floats(min_value=0.001, max_value=40.0, allow_nan=False), min_size=1, max_size=15, unique=True
).map(lambda b: tuple(sorted(b)))
q_st = st.floats(min_value=0.0, max_value=1.0)


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def true_bucket_edges(values: list[float], bounds: tuple[float, ...], x: float) -> tuple[float, float]:
    """Edges of the bucket holding x, tightened by the real min/max (computed independently)."""
    i = bisect_left(bounds, x)
    lo = bounds[i - 1] if i > 0 else min(values)
    hi = bounds[i] if i < len(bounds) else max(values)
    return max(lo, min(values)), min(hi, max(values))


@given(values_st, values_st, bounds_st, q_st)
def test_quantile_of_merged_histograms_equals_quantile_of_concatenated_values(a, b, bounds, q):
    merged = histograms.merge(histograms.from_values(a, bounds), histograms.from_values(b, bounds))
    whole = histograms.from_values(a + b, bounds)
    assert merged.counts == whole.counts and merged.count == whole.count
    assert (merged.min, merged.max) == (whole.min, whole.max)
    assert merged.sum == pytest.approx(whole.sum)
    assert histograms.quantile(merged, q) == histograms.quantile(whole, q)


@given(values_st, bounds_st, q_st)
def test_quantile_estimate_lies_in_the_bucket_holding_the_true_quantile(values, bounds, q):
    h = histograms.from_values(values, bounds)
    true = nearest_rank(values, q)
    lo, hi = true_bucket_edges(values, bounds, true)
    est = histograms.quantile(h, q)
    assert est is not None
    assert lo - 1e-9 <= est <= hi + 1e-9
    assert abs(est - true) <= (hi - lo) + 1e-9


@given(values_st, values_st, values_st, bounds_st, bounds_st, bounds_st)
def test_merge_is_associative_and_commutative_even_across_bound_sets(a, b, c, ba, bb, bc):
    ha, hb, hc = histograms.from_values(a, ba), histograms.from_values(b, bb), histograms.from_values(c, bc)
    left = histograms.merge(histograms.merge(ha, hb), hc)
    right = histograms.merge(ha, histograms.merge(hb, hc))
    swapped = histograms.merge(hc, histograms.merge(hb, ha))
    for other in (right, swapped):
        assert (left.bounds, left.counts, left.count, left.min, left.max) == (
            other.bounds,
            other.counts,
            other.count,
            other.min,
            other.max,
        )
        assert left.sum == pytest.approx(other.sum)
    assert histograms.merge_all([ha, hb, hc]) is not None
    folded = histograms.merge_all([ha, hb, hc])
    assert folded is not None and (folded.bounds, folded.counts) == (left.bounds, left.counts)


@given(values_st, values_st, bounds_st, bounds_st, q_st)
def test_merge_with_different_bounds_keeps_counts_exact_over_the_common_bounds(a, b, ba, bb, q):
    merged = histograms.merge(histograms.from_values(a, ba), histograms.from_values(b, bb))
    common = tuple(x for x in ba if x in set(bb))
    assert merged.bounds == common
    assert merged.counts == histograms.from_values(a + b, common).counts
    true = nearest_rank(a + b, q)
    lo, hi = true_bucket_edges(a + b, common, true)
    est = histograms.quantile(merged, q)
    assert est is not None and lo - 1e-9 <= est <= hi + 1e-9


def test_empty_histogram_does_not_cost_the_other_its_bounds():
    fine = histograms.from_values([0.2, 0.3], (0.1, 0.25, 0.5))
    merged = histograms.merge(histograms.empty((1.0, 2.0)), fine)
    assert merged.bounds == fine.bounds and merged.counts == fine.counts


def test_quantile_follows_prometheus_for_open_buckets_without_min_and_max():
    h = Histogram((1.0, 2.0), (2, 0, 2), sum=0.0, count=4)
    assert histograms.quantile(h, 0.25) == pytest.approx(0.5)  # first bucket interpolates from 0
    assert histograms.quantile(h, 0.99) == 2.0  # +Inf bucket answers the highest finite bound


def test_quantile_uses_min_and_max_for_the_open_buckets():
    h = histograms.from_values([0.5, 0.5, 30.0, 40.0], (1.0, 10.0))
    assert histograms.quantile(h, 1.0) == 40.0
    assert histograms.quantile(h, 0.0) == 0.5


def test_quantile_of_empty_histogram_is_none_and_bad_q_is_rejected():
    assert histograms.quantile(histograms.empty(), 0.5) is None
    with pytest.raises(ValueError):
        histograms.quantile(histograms.from_values([1.0]), 1.5)


def test_values_on_a_bound_fall_in_the_bucket_it_closes():
    h = histograms.from_values([0.1, 0.1000001], (0.1, 1.0))
    assert h.counts == (1, 1, 0)


def test_count_above_is_exact_at_a_bound_like_the_slow_query_second():
    h = histograms.from_values([0.2, 0.9, 1.0, 1.5, 3.0], histograms.DEFAULT_LATENCY_BOUNDS)
    assert histograms.count_above(h, 1.0) == pytest.approx(2.0)


def test_coarsen_refuses_bounds_it_would_have_to_split():
    with pytest.raises(ValueError):
        histograms.coarsen(histograms.from_values([1.0], (1.0, 2.0)), (1.5,))


@settings(max_examples=50)
@given(values_st)
def test_default_latency_bounds_are_the_otel_advisory_boundaries(values):
    h = histograms.from_values(values)
    assert h.bounds[0] == 0.005 and h.bounds[-1] == 10.0 and len(h.counts) == 15
    assert sum(h.counts) == h.count == len(values)
