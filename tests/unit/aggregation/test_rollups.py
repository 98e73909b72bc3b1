"""Rollups: idempotent recomputation, coarsening, and answering the series API like raw data does."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.domain import histograms, sketch
from vigil.domain.models import Point
from vigil.domain.rollups import Rollup, coarsen, merge_rollups, rollup_points
from vigil.domain.series import build_series, build_series_from_rollups

T0 = 1_764_028_800.0  # a UTC midnight
HOUR = 3600.0

point_st = st.builds(
    lambda host, dt, v: Point(f"h{host}", "m", (("k", "v"),), T0 + dt, v),
    st.integers(0, 2),
    st.floats(min_value=0.0, max_value=6 * HOUR - 1),
    st.floats(min_value=0.001, max_value=1e6),
)


@settings(max_examples=50)
@given(st.lists(point_st, min_size=1, max_size=60), st.randoms(use_true_random=False))
def test_recomputing_rollups_from_the_same_points_in_any_order_gives_identical_records(points, rnd):
    shuffled = list(points)
    rnd.shuffle(shuffled)
    assert rollup_points(shuffled, "1h") == rollup_points(points, "1h")


@settings(max_examples=50)
@given(st.lists(point_st, min_size=1, max_size=60))
def test_a_bucket_recomputed_alone_equals_the_same_bucket_from_an_overlapping_run(points):
    everything = {(r.host, r.start): r for r in rollup_points(points, "1h")}
    first = min(p.ts for p in points)
    start = math.floor(first / HOUR) * HOUR
    alone = rollup_points([p for p in points if start <= p.ts < start + HOUR], "1h")
    for r in alone:
        assert everything[(r.host, r.start)] == r


@settings(max_examples=50)
@given(st.lists(point_st, min_size=1, max_size=60))
def test_series_from_hourly_rollups_matches_series_from_raw_points(points):
    rollups = rollup_points(points, "1h")
    start, end = T0, T0 + 6 * HOUR - 1
    for agg in ("avg", "sum", "min", "max", "count", "last"):
        raw = build_series(points, start=start, end=end, step=HOUR, agg=agg, group_by=[])
        rolled = build_series_from_rollups(rollups, start=start, end=end, step=HOUR, agg=agg, group_by=[])
        assert rolled["timestamps"] == raw["timestamps"] and rolled["resolution"] == "1h"
        for a, b in zip(raw["series"][0]["values"], rolled["series"][0]["values"], strict=True):
            assert (a is None) == (b is None)
            assert a is None or a == pytest.approx(b, rel=1e-9)


@settings(max_examples=50)
@given(st.lists(point_st, min_size=1, max_size=80), st.sampled_from([0.5, 0.9, 0.95, 0.99]))
def test_percentiles_from_rollups_of_plain_values_are_within_the_documented_relative_error(points, q):
    rollups = rollup_points(points, "1h")
    result = build_series_from_rollups(
        rollups, start=T0, end=T0 + 6 * HOUR, step=6 * HOUR, agg=f"p{round(q * 100)}", group_by=[]
    )
    got = result["series"][0]["values"][0]
    ordered = sorted(p.value for p in points)  # type: ignore[type-var]
    true = ordered[max(1, math.ceil(q * len(ordered))) - 1]
    assert got is not None and abs(got - true) <= sketch.RELATIVE_ERROR * abs(true) * (1 + 1e-9)


def test_daily_rollups_coarsened_from_hourly_ones_keep_count_sum_min_max_and_sketch():
    rng = random.Random(5)
    pts = [Point("a", "m", (), T0 + rng.uniform(0, 86399), rng.uniform(0, 100)) for _ in range(500)]
    (direct,) = rollup_points(pts, "1d")
    (daily,) = coarsen(rollup_points(pts, "1h"), "1d")
    assert (daily.start, daily.count, daily.min, daily.max, daily.last) == (
        direct.start,
        direct.count,
        direct.min,
        direct.max,
        direct.last,
    )
    assert daily.sum == pytest.approx(direct.sum) and daily.sketch == direct.sketch


def test_histogram_rollups_merge_buckets_and_rate_survives_as_increase_over_seconds():
    hist = [
        Point("a", "lat", (), T0 + 10 * i, None, histograms.from_values([0.01 * i])) for i in range(1, 30)
    ]
    (r,) = rollup_points(hist, "1h")
    assert r.histogram is not None and r.count == 29 and not r.sketch
    counter = [Point("a", "c", (), T0 + 10 * i, 5.0 * i) for i in range(360)]
    (c,) = rollup_points(counter, "1h")
    assert c.increase / c.seconds == pytest.approx(0.5)
    rate = build_series_from_rollups([c], start=T0, end=T0 + HOUR - 1, step=HOUR, agg="rate")
    assert rate["series"][0]["values"] == [pytest.approx(0.5)]


def test_a_late_sample_corrects_its_bucket_when_the_bucket_is_recomputed():
    pts = [Point("a", "m", (), T0 + 60, 1.0), Point("a", "m", (), T0 + 120, 3.0)]
    before = rollup_points(pts, "1h")[0]
    after = rollup_points([*pts, Point("a", "m", (), T0 + 90, 8.0)], "1h")[0]
    assert (before.count, before.max) == (2, 3.0) and (after.count, after.max, after.sum) == (3, 8.0, 12.0)


def test_rollups_round_trip_through_json_and_refuse_merging_different_series():
    pts = [Point("a", "m", (("x", "1"),), T0 + i, float(i)) for i in range(10)]
    pts += [Point("a", "lat", (), T0, None, histograms.from_values([0.1, 0.2]))]
    for r in rollup_points(pts, "1h"):
        assert Rollup.from_json(r.to_json()) == r
    a, b = rollup_points(pts, "1h")
    with pytest.raises(ValueError):
        merge_rollups(a, b)
