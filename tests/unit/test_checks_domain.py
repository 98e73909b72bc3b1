"""Pure parts of synthetic checks, as properties: the `expect_status` parser, the result counters
behind uptime, due selection, and the `last` aggregation the check alerts read."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from vigil.domain.aggregate import aggregate
from vigil.domain.checks import RunResult, is_due, record_run, status_expected, status_ranges, uptime_since
from vigil.domain.errors import Invalid
from vigil.domain.models import Point
from vigil.domain.rules import Rule

statuses = st.integers(min_value=100, max_value=599)


@given(statuses, st.integers(min_value=1, max_value=5))
def test_a_status_class_accepts_exactly_its_hundred(status: int, klass: int) -> None:
    assert status_expected(status, status_ranges(f"{klass}xx")) == (status // 100 == klass)


@given(statuses, statuses, statuses)
def test_a_range_accepts_exactly_its_bounds_inclusive(status: int, a: int, b: int) -> None:
    low, high = min(a, b), max(a, b)
    for spec in (f"{low}-{high}", f" {low} - {high} "):
        assert status_expected(status, status_ranges(spec)) == (low <= status <= high)
    assert status_expected(status, status_ranges([low, str(high)])) == (status in (low, high))


@given(st.text(max_size=12))
def test_anything_else_is_refused_naming_the_field(text: str) -> None:
    try:
        ranges = status_ranges(text)
    except Invalid as exc:
        assert exc.field == "expect_status"
    else:
        assert ranges and all(100 <= low <= high <= 599 for low, high in ranges)


@pytest.mark.parametrize("spec", ["6xx", "0xx", "99", "600", "300-200", "2xx,3xx", [], [True]])
def test_malformed_expectations_are_refused(spec: object) -> None:
    with pytest.raises(Invalid):
        status_ranges(spec)  # type: ignore[arg-type]


@given(st.lists(st.tuples(st.integers(min_value=0, max_value=200 * 3600), st.booleans()), max_size=60))
def test_counters_count_every_run_of_the_kept_hours_and_days(runs: list[tuple[int, bool]]) -> None:
    state = None
    runs = sorted(runs)
    for at, up in runs:
        state = record_run(state, RunResult("ck_1", float(at), up, {"total": 0.01}))
    if not runs:
        return
    assert state is not None
    last = runs[-1][0]
    recent = [up for at, up in runs if at // 3600 > last // 3600 - 24]
    expected = round(100.0 * sum(recent) / len(recent), 3)
    assert uptime_since(state, float(last)) == expected
    assert sum(t for _, t in state["days"].values()) == sum(
        1 for at, _ in runs if at // 86400 > last // 86400 - 90
    )
    streak = 0
    for _, up in reversed(runs):
        if up:
            break
        streak += 1
    assert state["consecutive_failures"] == streak and state["status"] == ("up" if runs[-1][1] else "down")


def test_a_check_is_due_once_its_interval_has_passed() -> None:
    state = record_run(None, RunResult("ck_1", 100.0, True, {}))
    assert is_due(None, 60, 0) and not is_due(state, 60, 159.0) and is_due(state, 60, 159.6)


@given(
    st.lists(st.tuples(st.floats(min_value=1, max_value=299), st.floats(-1e6, 1e6)), min_size=1, max_size=30)
)
@example(points=[(298.99999999999994, 0.0), (299.0, 1.0)])  # two offsets, one stored time (CI found it)
def test_last_takes_the_newest_value_in_the_window(points: list[tuple[float, float]]) -> None:
    rule = Rule(name="x", metric="m", agg="last", window=300, group_by=[])
    # Compared at the stored times: 1000 + 298.99999999999994 and 1000 + 299.0 are the same float.
    stored = [(1000.0 + ts, value) for ts, value in points]
    data = [Point("h", "m", (), at, value) for at, value in stored]
    data.append(Point("h", "m", (), 1000.0 - 10, 123456.0))  # outside the window: never the answer
    newest = max(at for at, _ in stored)
    [group] = aggregate(rule, data, 1000.0, 1300.0).values()
    assert group.value in [v for at, v in stored if at == newest]
