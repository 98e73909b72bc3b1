"""Fleet records (`vigil.domain.fleet`): per (metric, labels, minute) across hosts, the same count, sum,
min and max as the points themselves, counter rates that add up across hosts, and hours whose rate is
the mean of their minutes' — property-tested with hypothesis."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.domain.fleet import FLEET_HOST, FleetFold, fleet_hours, fleet_rollups, merge_hosts
from vigil.domain.models import Histogram, Point
from vigil.domain.rollups import rollup_points

T0 = 1_764_028_800.0

samples = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c"]),
        st.sampled_from([(), (("k", "x"),)]),
        st.integers(min_value=0, max_value=179),
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    ),
    min_size=1,
    max_size=60,
    unique_by=lambda s: (s[0], s[1], s[2]),
)


@given(samples)
def test_fleet_records_count_sum_min_and_max_every_hosts_points_per_minute(rows: list) -> None:  # type: ignore[type-arg]
    points = [Point(h, "m", labels, T0 + sec, v) for h, labels, sec, v in rows]
    records = fleet_rollups(points)
    assert {r.host for r in records} == {FLEET_HOST}
    for r in records:
        mine = [p.value for p in points if p.labels == r.labels and r.start <= p.ts < r.start + 60]
        assert r.count == len(mine)
        assert math.isclose(r.sum, sum(mine), rel_tol=1e-9, abs_tol=1e-6)
        assert (r.min, r.max) == (min(mine), max(mine))
        assert r.sketch == {}


@settings(deadline=None)  # 1,800 points per example: over 200 ms when the shared machine is busy
@given(st.lists(st.floats(min_value=0.5, max_value=50.0), min_size=1, max_size=5))
def test_fleet_counter_rates_add_up_across_hosts_and_average_over_an_hours_minutes(
    rates: list[float],
) -> None:
    points = [
        Point(f"h{i}", "requests", (), T0 + 10 * s, rate * 10 * s)
        for i, rate in enumerate(rates)
        for s in range(360)
    ]
    minutes = fleet_rollups(points)
    per_host = rollup_points(points, "1m")
    for r in minutes:
        want = sum(x.increase / x.seconds for x in per_host if x.start == r.start and x.seconds > 0)
        assert math.isclose(r.increase / r.seconds, want, rel_tol=1e-9)
    (hour,) = fleet_hours(minutes)
    mean = sum(r.increase / r.seconds for r in minutes) / len(minutes)
    assert hour.seconds == 3600.0 and math.isclose(hour.increase / hour.seconds, mean, rel_tol=1e-9)
    assert hour.count == len(points)


mixed = st.lists(
    st.tuples(
        st.sampled_from(["web-1", "web-10", "db", "a.b"]),
        st.sampled_from(["cpu", "requests"]),
        st.sampled_from([(), (("k", "x"),)]),
        st.integers(min_value=0, max_value=299),
        st.floats(min_value=0.0, max_value=1e6, allow_nan=False),
        st.booleans(),
    ),
    min_size=1,
    max_size=80,
    unique_by=lambda s: (s[0], s[1], s[2], s[3]),
)


@settings(deadline=None)
@given(mixed, st.integers(min_value=1, max_value=4))
def test_fleet_fold_added_host_by_host_equals_merging_every_hosts_rollups(rows: list, parts: int) -> None:  # type: ignore[type-arg]
    """`FleetFold` (what the fleet job runs, fed whole hosts in parts) gives exactly the records of
    `merge_hosts(rollup_points(...))`: same float sums, last values, merged histograms and rates."""
    points = [
        Point(
            h,
            m,
            labels,
            T0 + sec,
            None if hist else v,
            Histogram((1.0, 10.0), (1, 2, 0), v, 3, 0.5, 9.0) if hist else None,
        )
        for h, m, labels, sec, v, hist in rows
    ]
    hosts = sorted({p.host for p in points})
    fold = FleetFold("1m")
    for i in range(parts):
        fold.add([p for p in points if hosts.index(p.host) % parts == i])
    reference = merge_hosts(rollup_points(points, "1m"))
    if parts == 1:
        assert fold.records() == reference
    else:  # float sums in another host order: equal up to rounding, everything else exactly
        got = fold.records()
        assert [(r.metric, r.labels, r.start, r.count, r.min, r.max, r.last) for r in got] == [
            (r.metric, r.labels, r.start, r.count, r.min, r.max, r.last) for r in reference
        ]
        for a, b in zip(got, reference, strict=True):
            assert math.isclose(a.sum, b.sum, rel_tol=1e-9, abs_tol=1e-6)
            assert math.isclose(a.increase, b.increase, rel_tol=1e-9, abs_tol=1e-6)
