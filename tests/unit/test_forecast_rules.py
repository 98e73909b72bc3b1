"""Forecast rules (`"forecast": "7d"`): the least-squares fit (hypothesis properties), the evaluator
stepped over scripted series (a linear ramp fires when its prediction crosses, flat noise never does),
the validation that names `forecast`, and the shipped "Filesystem full within 7 days" rule."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.config import Thresholds
from vigil.domain.alerts import Notification, RuleState
from vigil.domain.errors import Invalid
from vigil.domain.evaluator import evaluate
from vigil.domain.forecast import fit_line, series_forecast
from vigil.domain.models import Point
from vigil.domain.rules import default_rules, parse_rule

T0 = 1_764_000_000.0
MIN = 60.0
HOUR = 3600.0
DAY = 86400.0
METRIC = "system.filesystem.utilization"
finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False)


@given(slope=finite, level=finite, xs=st.lists(st.integers(0, 10**6), min_size=2, max_size=40, unique=True))
def test_the_fit_is_exact_on_points_of_a_line(slope: float, level: float, xs: list[int]) -> None:
    xf = [T0 + x for x in xs]
    line = fit_line(xf, [level + slope * (x - T0) for x in xf])
    assert line is not None
    assert line.slope == pytest.approx(slope, rel=1e-6, abs=1e-9)
    target = T0 + 2 * 10**6
    assert line.value(target) == pytest.approx(level + slope * 2 * 10**6, rel=1e-6, abs=1e-3)


@given(steps=st.lists(st.floats(min_value=1e-3, max_value=1e3), min_size=2, max_size=40))
def test_the_slope_has_the_sign_of_a_strictly_monotone_series(steps: list[float]) -> None:
    xs = [T0 + 60.0 * i for i in range(len(steps))]
    rising = [sum(steps[: i + 1]) for i in range(len(steps))]
    up, down = fit_line(xs, rising), fit_line(xs, [-y for y in rising])
    assert up is not None and down is not None
    assert up.slope > 0 > down.slope


def test_the_fit_needs_two_distinct_times() -> None:
    assert fit_line([T0], [1.0]) is None
    assert fit_line([T0, T0], [1.0, 2.0]) is None


def disk_rule(**kw: Any) -> Any:
    shipped = next(r for r in default_rules(Thresholds(), 10.0) if r.id == "default-disk-forecast")
    return shipped.model_copy(update=kw)


def ramp(rate_per_day: float, start_value: float, noise: float = 0.0, seed: int = 1) -> list[Point]:
    """A root filesystem sampled every 5 minutes from a day before T0 for 12 days."""
    rnd = random.Random(seed)
    out = []
    for i in range(int(13 * DAY / 300)):
        ts = T0 - DAY + 300 * i + 150
        value = start_value + rate_per_day * (ts - T0) / DAY + rnd.uniform(-noise, noise)
        out.append(Point("db-1", METRIC, (("mountpoint", "/"),), ts, value))
    return out


def step_through(
    rule: Any, points: list[Point], times: list[float]
) -> tuple[RuleState, list[tuple[float, Any]]]:
    state: RuleState | None = None
    seen: list[tuple[float, Any]] = []
    for now in times:
        data = [p for p in points if now - rule.window < p.ts <= now]
        state, events = evaluate(rule, data, state, now)
        seen += [(now, e) for e in events]
    assert state is not None
    return state, seen


def test_a_linear_ramp_fires_within_one_evaluation_period_of_its_predicted_crossing() -> None:
    # 50 % used, +5 % a day: full at T0 + 10 d, so "full within 7 days" from T0 + 3 d on
    points = ramp(0.05, 0.5)
    crossing = T0 + 3 * DAY
    hourly = [T0 + h * HOUR for h in range(0, 71)]
    minutely = [crossing - 30 * MIN + m * MIN for m in range(0, 61)]
    state, seen = step_through(disk_rule(), points, hourly + minutely)
    fired = [(t, e) for t, e in seen if isinstance(e, Notification) and e.kind == "firing"]
    assert len(fired) == 1
    at, note = fired[0]
    assert crossing <= at <= crossing + MIN  # the first evaluation at or after it (float rounding)
    assert note.value == pytest.approx(1.0, abs=1e-3)
    assert note.group == {"host": "db-1", "mountpoint": "/"}
    assert "predicted 100% in 7 d" in note.message
    assert state.groups["host=db-1,mountpoint=/"].status == "firing"


def test_flat_noise_never_fires_over_two_weeks() -> None:
    points = ramp(0.0, 0.6, noise=0.02, seed=7)
    state, seen = step_through(disk_rule(), points, [T0 + 30 * MIN * i for i in range(0, 11 * 48)])
    assert [e for _, e in seen if isinstance(e, Notification)] == []
    group = state.groups.get("host=db-1,mountpoint=/")
    assert group is None or group.status == "inactive"


def test_a_host_with_less_than_half_a_window_of_history_is_not_extrapolated() -> None:
    points = [Point("db-1", METRIC, (("mountpoint", "/"),), T0 + 60 * i, 0.5 + 0.01 * i) for i in range(60)]
    _, seen = step_through(disk_rule(), points, [T0 + HOUR])  # +1 % a minute: full in an hour
    assert seen == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"agg": "count"}, "value agg"),
        ({"agg": "absent"}, "value agg"),
        ({"window": "1h"}, "at least 20160 s"),
        ({"forecast": "soon"}, "duration"),
        ({"forecast": 0}, "more than 0"),
    ],
)
def test_a_forecast_without_a_value_agg_or_a_long_enough_window_is_refused_naming_forecast(
    change: dict[str, Any], message: str
) -> None:
    body = {"name": "disk", "metric": METRIC, "agg": "avg", "window": "12h", "forecast": "7d", **change}
    with pytest.raises(Invalid) as err:
        parse_rule(body)
    assert err.value.field == "forecast" and message in err.value.message


def test_a_forecast_rule_round_trips_its_duration() -> None:
    rule = parse_rule({"name": "disk", "metric": METRIC, "window": "6h", "forecast": "7d", "threshold": 1})
    assert rule.forecast == 7 * DAY and rule.wire()["forecast"] == 7 * DAY
    assert parse_rule({"name": "cpu", "metric": METRIC}).forecast is None


def test_the_chart_forecast_line_extends_the_series_fit_to_the_horizon() -> None:
    ts = [T0 + 3600.0 * i for i in range(10)]
    line = series_forecast(ts, [0.5 + 0.01 * i if i != 4 else None for i in range(10)], ts[-1], 7 * DAY)
    assert line is not None
    assert line["timestamps"] == [ts[-1], ts[-1] + 7 * DAY]
    assert line["values"][1] == pytest.approx(0.59 + 0.01 * 7 * 24)
    assert line["slope_per_day"] == pytest.approx(0.24)
    assert series_forecast(ts[:2], [1.0, 2.0], ts[1], DAY) is None
