"""Cadence-aware "host not reporting" over scripted time (issue 11 item 1): the shipped rule over 24
simulated hours for push intervals 10 s, 60 s, 300 s x evaluation periods 10 s, 60 s x seeded
random phase and jitter never fires for a healthy host and notices a real stop in time. The
simulation is `bench.bench_absence.simulate` (the bench reports the same grid)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.bench_absence import INTERVALS, PERIODS, host_down_rule, simulate
from vigil.domain.alerts import RuleState, Transition
from vigil.domain.cadence import (
    Cadence,
    Reporting,
    from_receipts,
    host_status,
    observe_push,
)
from vigil.domain.evaluator import evaluate


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("interval", INTERVALS)
def test_healthy_host_never_fires_and_a_stop_is_detected_within_the_bound(
    interval: float, period: float
) -> None:
    for seed in (11, 12):
        outcome = simulate(interval, period, seed, hours=24.0)
        assert outcome.false_firings == 0, outcome
        assert outcome.detection_delay is not None, outcome
        assert outcome.detection_delay <= (3 + 1) * interval + period, outcome


def test_a_host_that_pushed_once_is_stale_and_never_pages() -> None:
    rule = host_down_rule()
    cadence = observe_push(Cadence(), 1000.0)
    state, fired = RuleState(rule.id), []
    for tick in range(1010, 1010 + 86400, 60):
        state, events = evaluate(rule, [], state, float(tick), reporting=Reporting({"once": cadence}, 60.0))
        fired += [e for e in events if isinstance(e, Transition)]
    assert fired == []
    assert host_status(cadence, 1000.0 + 86400, missed=3, evaluation_period=60.0) == "stale"
    assert host_status(cadence, 1030.0, missed=3, evaluation_period=60.0) == "up"


def test_a_backlog_flushed_in_a_burst_does_not_shrink_the_learned_interval() -> None:
    receipts = [0.0, 60.0, 120.0, 180.0, 240.0, 600.0, 600.3, 600.6, 600.9, 660.0]
    assert from_receipts(receipts).interval == 60.0


def test_a_declared_interval_is_used_before_any_gap_is_seen() -> None:
    cadence = observe_push(Cadence(), 0.0, declared=300.0)
    assert cadence.interval == 300.0
    assert host_status(cadence, 3 * 300.0 + 60.0, missed=3, evaluation_period=60.0) == "up"
    assert host_status(cadence, 4 * 300.0 + 1.0, missed=3, evaluation_period=60.0) == "down"


@given(
    st.floats(min_value=5.0, max_value=3600.0),
    st.lists(st.floats(min_value=-0.1, max_value=0.1), min_size=4, max_size=30),
)
def test_the_learned_interval_is_within_the_jitter_of_the_true_one(
    interval: float, jitter: list[float]
) -> None:
    receipts = [k * interval + j * interval for k, j in enumerate(jitter)]
    learned = from_receipts(receipts).interval
    assert learned is not None
    assert 0.8 * interval <= learned <= 1.2 * interval


def test_missed_intervals_needs_an_absent_rule_grouped_by_host() -> None:
    from vigil.domain.errors import Invalid
    from vigil.domain.rules import parse_rule

    base = {"name": "down", "metric": "system.cpu.utilization", "missed_intervals": 3}
    assert parse_rule({**base, "agg": "absent"}).missed_intervals == 3
    for wrong in ({"agg": "avg"}, {"agg": "absent", "group_by": []}):
        with pytest.raises(Invalid, match="missed_intervals"):
            parse_rule({**base, **wrong})


def test_a_down_host_resolves_when_it_pushes_again_or_the_rule_is_disabled() -> None:
    rule = host_down_rule()
    cadence = from_receipts([0.0, 60.0, 120.0, 180.0])
    state, events = evaluate(rule, [], None, 180.0 + 4 * 60, reporting=Reporting({"h": cadence}, 60.0))
    assert [(e.to_status, e.group) for e in events if isinstance(e, Transition)] == [
        ("firing", {"host": "h"})
    ]
    back = observe_push(cadence, 430.0)
    _, events = evaluate(rule, [], state, 440.0, reporting=Reporting({"h": back}, 60.0))
    assert [e.to_status for e in events if isinstance(e, Transition)] == ["resolved"]
    off = rule.model_copy(update={"enabled": False})
    _, events = evaluate(off, [], state, 440.0, reporting=Reporting({"h": cadence}, 60.0))
    assert [e.to_status for e in events if isinstance(e, Transition)] == ["resolved"]


def test_only_the_latest_pushs_declaration_counts() -> None:
    cadence = Cadence()
    for at in (0.0, 10.0, 20.0):  # an agent declaring 10 s ...
        cadence = observe_push(cadence, at, declared=10.0)
    for at in (80.0, 140.0, 200.0):  # ... replaced by an SDK pushing every 60 s, declaring nothing
        cadence = observe_push(cadence, at)
    assert cadence.declared is None and cadence.interval == 60.0
