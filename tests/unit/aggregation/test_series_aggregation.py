"""`build_series` against brute force over the raw points: exact aggregates, gaps, alignment, grouping."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.domain import histograms
from vigil.domain.errors import Invalid, TooLarge
from vigil.domain.models import Point
from vigil.domain.series import build_series

T0 = 1_764_000_000.0
LABELSETS = [(), (("route", "/a"),), (("route", "/b"),), (("cpu", "0"), ("route", "/a"))]

point_st = st.builds(
    lambda host, labels, dt, v: Point(f"h{host}", "m", LABELSETS[labels], T0 + dt, v),
    st.integers(0, 2),
    st.integers(0, 3),
    st.floats(min_value=0.0, max_value=3600.0),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
)
query_st = st.tuples(st.floats(0.0, 1800.0), st.floats(0.0, 1800.0), st.sampled_from([1.0, 7.0, 60.0, 300.0]))


def bucket_of(ts: float, step: float) -> float:
    return math.floor(ts / step) * step


def raw_in(points: list[Point], start: float, end: float, t: float, step: float) -> list[float]:
    return [p.value for p in points if start <= p.ts <= end and bucket_of(p.ts, step) == t]  # type: ignore[misc]


def brute_quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@settings(max_examples=60)
@given(st.lists(point_st, max_size=80), query_st)
def test_fleet_wide_aggregates_equal_brute_force_over_all_raw_values_in_each_bucket(points, query):
    a, span, step = query
    start, end = T0 + a, T0 + a + span
    for agg in ("avg", "sum", "min", "max", "count", "p50", "p95"):
        result = build_series(points, start=start, end=end, step=step, agg=agg, group_by=[])
        assert all(t % step == 0 for t in result["timestamps"])
        if not result["series"]:
            assert not any(start <= p.ts <= end for p in points)
            continue
        (only,) = result["series"]
        assert only["host"] is None and only["labels"] == {}
        for t, got in zip(result["timestamps"], only["values"], strict=True):
            raw = raw_in(points, start, end, t, step)
            if not raw:
                assert got is None
                continue
            want = {
                "avg": lambda r: sum(r) / len(r),
                "sum": sum,
                "min": min,
                "max": max,
                "count": len,
                "p50": lambda r: brute_quantile(r, 0.5),
                "p95": lambda r: brute_quantile(r, 0.95),
            }[agg](raw)
            assert got == pytest.approx(want, rel=1e-9, abs=1e-6)


@settings(max_examples=60)
@given(st.lists(point_st, max_size=80), query_st)
def test_default_grouping_gives_one_series_per_host_and_label_set(points, query):
    a, span, step = query
    start, end = T0 + a, T0 + a + span
    result = build_series(points, start=start, end=end, step=step, agg="count")
    keys = {(p.host, p.labels) for p in points if start <= p.ts <= end}
    assert {(s["host"], tuple(sorted(s["labels"].items()))) for s in result["series"]} == keys
    for s in result["series"]:
        mine = [p for p in points if (p.host, p.labels) == (s["host"], tuple(sorted(s["labels"].items())))]
        for t, got in zip(result["timestamps"], s["values"], strict=True):
            n = len(raw_in(mine, start, end, t, step))
            assert got == (float(n) if n else None)


def test_timestamps_are_bucket_starts_aligned_to_the_step_covering_the_range():
    result = build_series([], start=T0 + 30, end=T0 + 200, step=60, agg="avg", metric="m")
    assert result["timestamps"] == [T0, T0 + 60, T0 + 120, T0 + 180]
    assert result["series"] == [] and result["metric"] == "m" and result["resolution"] == "raw"


def test_gaps_are_none_and_points_outside_the_range_are_ignored():
    pts = [
        Point("a", "m", (), T0 + 5, 1.0),
        Point("a", "m", (), T0 + 125, 3.0),
        Point("a", "m", (), T0 + 999, 9.0),
    ]
    result = build_series(pts, start=T0, end=T0 + 179, step=60, agg="max")
    assert result["series"][0]["values"] == [1.0, None, 3.0]


def test_group_by_label_combines_hosts_and_omits_the_label_where_absent():
    pts = [
        Point("a", "m", (("route", "/x"),), T0, 1.0),
        Point("b", "m", (("route", "/x"),), T0, 3.0),
        Point("b", "m", (("route", "/y"),), T0, 10.0),
        Point("c", "m", (), T0, 100.0),
    ]
    for spelling in (["route"], ["label:route"], "label:route"):
        result = build_series(pts, start=T0, end=T0 + 59, step=60, agg="avg", group_by=spelling)
        got = {tuple(s["labels"].items()): s["values"][0] for s in result["series"]}
        assert got == {(("route", "/x"),): 2.0, (("route", "/y"),): 10.0, (): 100.0}
        assert all(s["host"] is None for s in result["series"])


def test_group_by_host_averages_raw_values_not_averages_of_series():
    pts = [Point("a", "m", (("d", "r"),), T0 + i, 1.0) for i in range(3)] + [
        Point("a", "m", (("d", "w"),), T0, 5.0)
    ]
    result = build_series(pts, start=T0, end=T0 + 59, step=60, agg="avg", group_by="host")
    assert result["series"] == [{"host": "a", "labels": {}, "values": [2.0]}]  # (1+1+1+5)/4, not (1+5)/2


def test_fleet_p95_of_histograms_equals_p95_of_one_histogram_of_all_raw_values():
    rng = random.Random(7)
    raw = {h: [rng.expovariate(10) for _ in range(50)] for h in ("a", "b", "c")}
    pts = [Point(h, "lat", (), T0 + 1, None, histograms.from_values(v)) for h, v in raw.items()]
    result = build_series(pts, start=T0, end=T0 + 59, step=60, agg="p95", group_by="none")
    every = [x for v in raw.values() for x in v]
    assert result["series"][0]["values"] == [histograms.quantile(histograms.from_values(every), 0.95)]
    count = build_series(pts, start=T0, end=T0 + 59, step=60, agg="count", group_by=[])
    assert count["series"][0]["values"] == [150.0]
    avg = build_series(pts, start=T0, end=T0 + 59, step=60, agg="avg", group_by=[])
    assert avg["series"][0]["values"][0] == pytest.approx(sum(every) / len(every))
    rate = build_series(pts, start=T0, end=T0 + 59, step=60, agg="rate", group_by=[])
    assert rate["series"][0]["values"] == [pytest.approx(150 / 59)]  # observations per covered second


def test_rate_is_per_second_increase_and_survives_a_counter_reset():
    # 2/s for 60 s, then the process restarts (counter back near 0) and goes on at 2/s
    values = [(T0 + t, 2.0 * t) for t in range(0, 70, 10)] + [
        (T0 + 70 + t, 2.0 * t + 4) for t in range(0, 50, 10)
    ]
    pts = [Point("a", "c", (), ts, v) for ts, v in values]
    rng = random.Random(3)
    rng.shuffle(pts)
    result = build_series(pts, start=T0, end=T0 + 119, step=60, agg="rate")
    first, second = result["series"][0]["values"]
    assert first == pytest.approx(2.0)
    # second bucket: 120->140 (+20 over 10 s), reset 140->4 counts +4 over 10 s, then +20 per 10 s x4
    assert second == pytest.approx((20 + 4 + 80) / 60)


def test_fleet_rate_is_the_sum_of_per_host_rates():
    pts = [Point(h, "c", (), T0 + t, k * t) for h, k in (("a", 1.0), ("b", 3.0)) for t in range(0, 60, 10)]
    result = build_series(pts, start=T0, end=T0 + 59, step=60, agg="rate", group_by=[])
    assert result["series"][0]["values"] == [pytest.approx(4.0)]


def test_last_is_the_newest_sample_of_the_group():
    pts = [
        Point("a", "m", (), T0 + 50, 1.0),
        Point("b", "m", (), T0 + 55, 2.0),
        Point("a", "m", (), T0 + 10, 3.0),
    ]
    result = build_series(pts, start=T0, end=T0 + 59, step=60, agg="last", group_by=[])
    assert result["series"][0]["values"] == [2.0]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"agg": "median"}, "agg"),
        ({"start": T0 + 10, "end": T0}, "from"),
        ({"step": 0.0}, "step"),
        ({"step": -5.0}, "step"),
        ({"group_by": ["bad label!"]}, "group_by"),
    ],
)
def test_invalid_queries_name_the_offending_field(kwargs, field):
    args = {"start": T0, "end": T0 + 60, "step": 60.0, "agg": "avg"} | kwargs
    with pytest.raises(Invalid) as err:
        build_series([], **args)
    assert err.value.field == field


def test_too_many_series_is_refused_with_a_clear_error():
    pts = [Point(f"h{i}", "m", (), T0, 1.0) for i in range(11)]
    with pytest.raises(TooLarge):
        build_series(pts, start=T0, end=T0 + 60, step=60, agg="avg", max_series=10)
    assert (
        len(
            build_series(pts, start=T0, end=T0 + 60, step=60, agg="avg", group_by=[], max_series=10)["series"]
        )
        == 1
    )
