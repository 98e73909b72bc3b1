"""Rollups and fleet records built straight from `SeriesBlock` arrays (`vigil.domain.block_rollups`, the
one-pass back-fill) equal what the jobs build from the same samples as `Point`s: `rollup_points` and
`fine_rollups` record for record, `FleetFold` up to the order of float additions across hosts; and the
C-mapped helpers under them (`counter_totals`, `sketch.add_values`) equal their per-sample forms —
property-tested with hypothesis."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.domain import sketch
from vigil.domain.accumulate import counter_increase, counter_totals
from vigil.domain.block_rollups import BlockFleetFold, block_markers, block_rollups, bucket_slices
from vigil.domain.fleet import FleetFold
from vigil.domain.models import Point, SeriesBlock
from vigil.domain.rollups import coarsen, fine_rollups, rollup_points

T0 = 1_764_028_800.0
values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
# strictly ascending offsets (seconds) of one series' samples, across a few hours
offsets = st.lists(st.integers(min_value=0, max_value=4 * 3600), min_size=1, max_size=120, unique=True).map(
    sorted
)


def series(draw: st.DrawFn, host: str, metric: str) -> SeriesBlock:
    ts = [T0 - 1800 + o + draw(st.sampled_from([0.0, 0.25])) for o in draw(offsets)]
    return SeriesBlock(host, metric, (), ts, [draw(values) for _ in ts])


@st.composite
def one_block(draw: st.DrawFn) -> SeriesBlock:
    return series(draw, "web-1", "cpu")


@st.composite
def fleet_blocks(draw: st.DrawFn) -> list[SeriesBlock]:
    hosts = draw(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=4, unique=True))
    return [series(draw, h, m) for h in hosts for m in ("cpu", "requests")]


def points(block: SeriesBlock) -> list[Point]:
    return [
        Point(block.host, block.metric, block.labels, t, v)
        for t, v in zip(block.timestamps, block.values, strict=True)
    ]


@settings(deadline=None)
@given(one_block())
def test_a_blocks_hourly_daily_and_fine_rollups_equal_the_rollup_jobs_from_its_points(
    block: SeriesBlock,
) -> None:
    hourly = block_rollups(block, "1h")
    assert hourly == rollup_points(points(block), "1h")
    assert coarsen(hourly, "1d") == coarsen(rollup_points(points(block), "1h"), "1d")
    assert block_markers(hourly) == fine_rollups(points(block))
    later = T0 + 3600.0
    assert block_rollups(block, "1h", later) == [r for r in hourly if r.start >= later]


@settings(deadline=None)
@given(fleet_blocks())
def test_block_fleet_minutes_equal_the_fleet_jobs_fold_of_the_same_points(blocks: list[SeriesBlock]) -> None:
    fold, job = BlockFleetFold("1m"), FleetFold("1m")
    for b in blocks:
        fold.add(b)
        job.add(points(b))  # host by host, in the blocks' order
    got, want = fold.records(), job.records()
    assert [(r.metric, r.start, r.count, r.min, r.max, r.last_ts, r.last) for r in got] == [
        (r.metric, r.start, r.count, r.min, r.max, r.last_ts, r.last) for r in want
    ]
    for a, b in zip(got, want, strict=True):
        assert a.sum == pytest.approx(b.sum, rel=1e-9, abs=1e-6)
        assert (a.increase, a.seconds) == pytest.approx((b.increase, b.seconds), rel=1e-9, abs=1e-6)


def test_one_sample_per_minute_blocks_merge_column_wise_into_the_same_records_as_the_fold() -> None:
    blocks = [
        SeriesBlock(
            h, "cpu", (), [T0 + 60 * i + s for i in range(90)], [((7 * i + s) % 10) / 10 for i in range(90)]
        )
        for s, h in enumerate(["a", "b", "c"])
    ]
    blocks.append(SeriesBlock("d", "cpu", (), [T0 + 30.0], [5.0]))  # the tie rule of `last` and a late start
    blocks.append(
        SeriesBlock("e", "cpu", (), [T0 - 120.0, T0 - 60.0], [1.0, 2.0])
    )  # grows the columns' front
    fold, job = BlockFleetFold("1m"), FleetFold("1m")
    for b in blocks:
        fold.add(b)
        job.add(points(b))
    assert fold.records() == job.records()


def test_a_fold_keeps_only_the_samples_inside_its_range() -> None:
    block = SeriesBlock("a", "cpu", (), [T0 + 60 * i for i in range(10)], [float(i) for i in range(10)])
    fold = BlockFleetFold("1m")
    fold.add(block, T0 + 120, T0 + 300)
    assert [(r.start, r.sum) for r in fold.records()] == [(T0 + 60 * i, float(i)) for i in range(2, 5)]


@settings(deadline=None)  # the shared machine stalls single examples for > 200 ms
@given(
    st.lists(st.floats(min_value=0.0, max_value=1e9, allow_nan=False), min_size=2, max_size=50).map(sorted)
)
def test_counter_totals_are_the_sums_of_counter_increases_pairs_in_order(stamps: list[float]) -> None:
    ts = sorted(set(stamps))
    vs = [v * 3 % 17 for v in ts]
    pairs = counter_increase(list(zip(ts, vs, strict=True)))
    increase = seconds = 0.0
    for _ts, inc, sec in pairs:
        increase, seconds = increase + inc, seconds + sec
    assert counter_totals(ts, vs) == (increase, seconds)


@settings(deadline=None)  # the shared machine stalls single examples for > 200 ms
@given(st.lists(st.floats(min_value=-1e15, max_value=1e15), max_size=60))  # 1.8e299 overflows key()
def test_adding_values_to_a_sketch_buckets_each_value_by_its_key(vs: list[float]) -> None:
    want: dict[int, int] = {}
    for v in vs:
        want[sketch.key(v)] = want.get(sketch.key(v), 0) + 1
    assert sketch.add_values({}, vs) == want
    assert sketch.add_values({1: 2}, iter(vs)) == sketch.merge_into({1: 2}, want)


@settings(deadline=None)  # the shared machine stalls single examples for > 200 ms
@given(st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False), min_size=1, max_size=80).map(sorted))
def test_bucket_slices_put_each_timestamp_in_the_bucket_its_own_floor_gives(stamps: list[float]) -> None:
    ts = sorted(set(stamps))
    seen = []
    for start, a, b in bucket_slices(ts, 60.0):
        assert a < b
        seen.extend(range(a, b))
        assert all(math.floor(t / 60.0) * 60.0 == start for t in ts[a:b])
    assert seen == list(range(len(ts)))
