"""Hour-of-week bands (`vigil.domain.seasonal`): any exactly repeating weekly pattern lies inside its
own band at every hour (hypothesis), a step change leaves it, less than a week of history gives no band,
and `outside_band` rules are validated naming `condition`."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.domain.errors import Invalid
from vigil.domain.rules import parse_rule
from vigil.domain.seasonal import FLOOR_SHARE, HOUR, WEEK, band_at

T0 = 1_764_028_800.0  # a midnight UTC


def history(pattern: list[float], weeks: int, end: float) -> dict[float, float]:
    """`weeks` of hourly values before `end` repeating `pattern` (168 values, one per hour of week)."""
    start = end - weeks * WEEK
    return {start + h * HOUR: pattern[h % 168] for h in range(weeks * 168)}


@settings(max_examples=60, deadline=None)
@given(
    pattern=st.lists(st.floats(min_value=0, max_value=1e4, allow_nan=False), min_size=168, max_size=168),
    weeks=st.integers(1, 4),
)
def test_an_exactly_repeating_weekly_pattern_stays_inside_its_band(pattern: list[float], weeks: int) -> None:
    end = T0 + 4 * WEEK
    hourly = history(pattern, weeks, end)
    for h in range(168):
        band = band_at(hourly, end + h * HOUR)
        assert band is not None
        assert band.contains(pattern[h % 168])


def test_a_step_change_leaves_the_band() -> None:
    pattern = [10.0 + (h % 24) for h in range(168)]
    hourly = history(pattern, 4, T0 + 4 * WEEK)
    band = band_at(hourly, T0 + 4 * WEEK + 14 * HOUR)
    assert band is not None and band.samples == 12
    assert band.contains(24.0) and not band.contains(24.0 * 2)


def test_a_flat_series_gets_a_floor_of_spread_instead_of_a_zero_width_band() -> None:
    band = band_at(history([50.0] * 168, 2, T0 + 2 * WEEK), T0 + 2 * WEEK)
    assert band is not None
    assert band.upper - band.mean == pytest.approx(3 * FLOOR_SHARE * 50.0)


def test_less_than_a_week_of_history_gives_no_band() -> None:
    end = T0 + 10 * 86400
    three_days = {end - 3 * 86400 + h * HOUR: 1.0 for h in range(72)}
    assert band_at(three_days, end + 5 * HOUR) is None


@pytest.mark.parametrize(
    "change",
    [{"agg": "count"}, {"agg": "rate"}, {"forecast": "7d", "window": "12h"}],
)
def test_an_outside_band_rule_needs_a_value_agg_and_no_forecast(change: dict[str, Any]) -> None:
    body = {"name": "unusual", "metric": "cpu", "agg": "avg", "condition": "outside_band", **change}
    with pytest.raises(Invalid) as err:
        parse_rule(body)
    assert err.value.field == "condition"
