"""Step and resolution planning: a series never exceeds ~2,000 points and rollups answer old ranges."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.domain.errors import Invalid
from vigil.domain.planning import (
    NICE_STEPS,
    PERCENTILE_POINTS,
    bucket_count,
    choose_resolution,
    choose_step,
    data_step,
    parse_aggs,
    parse_group_by,
    plan_step,
)

NOW = 1_764_000_000.0
DAY = 86400.0
WEEK = 7 * DAY


@given(
    st.floats(0, 2e9),
    st.floats(0, 400 * DAY),
    st.one_of(st.none(), st.floats(min_value=0.001, max_value=1e7)),
    st.integers(10, 5000),
)
def test_choose_step_never_returns_more_than_max_points(start, span, requested, max_points):
    step = choose_step(start, start + span, requested, max_points)
    assert bucket_count(start, start + span, step) <= max_points
    if requested is not None:
        assert step >= requested


def test_choose_step_keeps_a_requested_step_that_fits_and_picks_nice_steps_otherwise():
    assert choose_step(NOW - 3600, NOW, 60) == 60
    assert choose_step(NOW - DAY, NOW) == 60  # 1,440 points
    assert choose_step(NOW - WEEK, NOW) == 600
    assert choose_step(NOW - 365 * DAY, NOW) == 21600
    assert choose_step(NOW - WEEK, NOW, 10) == 600  # 60,480 points asked for: widened


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_choose_step_rejects_non_positive_steps_on_field_step(bad):
    with pytest.raises(Invalid) as err:
        choose_step(NOW - 60, NOW, bad)
    assert err.value.field == "step"


def test_choose_resolution_uses_raw_recent_data_and_rollups_for_old_or_coarse_ranges():
    assert choose_resolution(NOW - DAY, NOW, NOW, WEEK, step=60) == "raw"
    assert choose_resolution(NOW - DAY, NOW, NOW, WEEK, step=60, available=("raw", "1m", "1h", "1d")) == "1m"
    assert choose_resolution(NOW - 30 * DAY, NOW, NOW, WEEK, step=1800) == "1h"
    assert choose_resolution(NOW - DAY, NOW, NOW, WEEK, step=3600) == "1h"
    assert choose_resolution(NOW - 365 * DAY, NOW, NOW, WEEK, step=DAY) == "1d"


def test_ranges_older_than_the_rollup_retention_are_refused_on_field_from():
    with pytest.raises(Invalid) as err:
        choose_resolution(NOW - 500 * DAY, NOW, NOW, WEEK)
    assert err.value.field == "from"


@pytest.mark.parametrize(
    ("span", "step", "resolution"),
    [(DAY, 60, "raw"), (WEEK, 600, "raw"), (30 * DAY, 3600, "1h"), (365 * DAY, 21600, "1h")],
)
def test_plan_step_for_the_dashboard_ranges(span, step, resolution):
    assert plan_step(NOW - span, NOW, NOW, WEEK) == (step, resolution)


def test_plan_step_answers_a_daily_view_from_daily_rollups():
    assert plan_step(NOW - 365 * DAY, NOW, NOW, WEEK, requested_step=DAY) == (DAY, "1d")


def test_plan_step_rounds_the_step_up_to_the_rollup_width():
    step, resolution = plan_step(NOW - 30 * DAY, NOW, NOW, WEEK, requested_step=1500)
    assert resolution == "1h" and step % 3600 == 0


def test_group_by_spellings_normalise_to_dimensions():
    assert parse_group_by(None) is None
    assert parse_group_by([]) == () == parse_group_by("none") == parse_group_by(["none"])
    assert parse_group_by("host,label:route") == ("host", "label:route")
    assert parse_group_by(["route", "host"]) == ("label:route", "host")
    assert parse_group_by(["label:host"]) == ("label:host",)


def test_percentile_queries_of_a_day_get_five_minute_steps_from_the_fine_tier():
    now = 1_764_028_800.0
    available = ("raw", "5m", "1h", "1d")
    assert plan_step(now - 86400, now, now, 7 * 86400, available=available, aggs=("p95",)) == (300.0, "5m")
    assert plan_step(now - 86400, now, now, 7 * 86400, available=available, aggs=("avg",)) == (60.0, "raw")
    assert plan_step(now - 3600, now, now, 7 * 86400, available=available, aggs=("p99",)) == (15.0, "raw")
    # an explicit step is kept; the fine tier only answers whole 5-minute steps, without it raw does
    assert plan_step(now - 86400, now, now, 7 * 86400, 60.0, available=available, aggs=("p95",)) == (
        60.0,
        "raw",
    )
    assert plan_step(now - 86400, now, now, 7 * 86400, 300.0, available=("raw", "1h", "1d")) == (300.0, "raw")


@given(span=st.floats(60, 2 * 86400), aggs=st.sampled_from([("p50",), ("p95", "rate"), ("p99", "avg")]))
def test_percentile_steps_stay_within_their_point_budget(span, aggs):
    now = 1_764_028_800.0
    step, _ = plan_step(now - span, now, now, 7 * 86400, available=("raw", "5m", "1h", "1d"), aggs=aggs)
    assert bucket_count(now - span, now, step) <= PERCENTILE_POINTS


def test_several_aggs_parse_in_order_without_duplicates_and_unknown_ones_are_refused_on_field_agg():
    assert parse_aggs("p50,p95, p99,p95,rate") == ("p50", "p95", "p99", "rate")
    for bad in ("p50,,p95", "p50,median", ""):
        with pytest.raises(Invalid) as err:
            parse_aggs(bad)
        assert err.value.field == "agg"


@given(
    st.sampled_from([10.0, 15.0, 30.0, 60.0]),
    st.lists(st.integers(1, 600), min_size=2, max_size=40),
    st.integers(0, 3),
)
def test_an_automatic_step_is_widened_to_the_data_only_when_half_its_buckets_would_be_empty(
    step: float, gaps: list[int], other_series: int
) -> None:
    timestamps = [NOW + i * step for i in range(sum(gaps) + 1)]
    present = {0}
    for g in gaps:
        present.add(max(present) + g)
    column = [1.0 if i in present else None for i in range(len(timestamps))]
    fitted = data_step(timestamps, [column] * (1 + other_series), step)
    spacing = sorted(g * step for g in gaps)[len(gaps) // 2]
    if spacing < 2 * step:
        assert fitted is None
    else:
        assert fitted is not None and fitted >= 0.95 * spacing and fitted > step
        assert fitted in NICE_STEPS or fitted % DAY == 0


def test_thirty_second_data_in_five_second_buckets_gets_thirty_second_steps_dense_data_its_own() -> None:
    timestamps = [NOW + 5 * i for i in range(720)]
    sparse = [1.0 if i % 6 == 0 else None for i in range(720)]
    assert data_step(timestamps, [sparse, [None] * 720], 5.0) == 30.0
    assert data_step(timestamps, [[1.0] * 720], 5.0) is None
    assert data_step(timestamps, [[None] * 719 + [1.0]], 5.0) is None  # one sample: no interval
