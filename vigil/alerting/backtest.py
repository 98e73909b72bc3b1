"""Backtest (`POST /api/alerts/rules/test`): replay a rule, saved or draft, over stored history and say
when it would have fired and resolved and how many notifications it would have sent. Silences are
ignored (the question is what the rule itself does). Pure: the caller fetches the points.
Imports: `vigil.domain`.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vigil.domain.alerts import Notification, RuleState, Transition, group_key
from vigil.domain.errors import Invalid
from vigil.domain.evaluator import DEFAULT_OPTIONS, EvalOptions, evaluate
from vigil.domain.records import Point
from vigil.domain.rule_records import RuleRecord, as_record
from vigil.domain.timeparse import iso

if TYPE_CHECKING:  # the pydantic model (the API's, tests'): only its type
    from vigil.domain.rules import Rule

MAX_STEPS = 20_000  # 7 days at one evaluation a minute is 10,080


@dataclass
class BacktestResult:
    evaluations: int
    step: float
    notifications: int = 0
    notifications_by_kind: dict[str, int] = field(default_factory=dict)
    incidents: list[dict[str, Any]] = field(default_factory=list)  # one per fired alert instance

    def to_json(self) -> dict[str, Any]:
        return {
            "evaluations": self.evaluations,
            "step": self.step,
            "fired": len(self.incidents),
            "notifications": self.notifications,
            "notifications_by_kind": self.notifications_by_kind,
            "incidents": self.incidents,
        }


def backtest(
    rule: RuleRecord | Rule,
    points: Iterable[Point],
    start: float,
    end: float,
    step: float,
    options: EvalOptions = DEFAULT_OPTIONS,
) -> BacktestResult:
    """Evaluate `rule` every `step` seconds from `start` to `end` over `points` (which should cover
    `[start - window, end]`). The step is raised when needed to stay under `MAX_STEPS` evaluations.

    Raises:
        Invalid: `end <= start` or `step <= 0`.
    """
    if end <= start:
        raise Invalid("end must be after start", field="end")
    if step <= 0:
        raise Invalid("step must be positive", field="step")
    step = max(step, (end - start) / MAX_STEPS)
    rule = as_record(rule)
    ordered = sorted((p for p in points if p.metric == rule.metric), key=lambda p: p.ts)
    stamps = [p.ts for p in ordered]
    result = BacktestResult(evaluations=0, step=step)
    open_incidents: dict[tuple[str, float], dict[str, Any]] = {}
    state: RuleState | None = None
    now = start
    while now <= end:
        lo, hi = bisect.bisect_right(stamps, now - rule.window), bisect.bisect_right(stamps, now)
        state, events = evaluate(rule, ordered[lo:hi], state, now, options=options)
        result.evaluations += 1
        for event in events:
            if isinstance(event, Notification):
                result.notifications += 1
                result.notifications_by_kind[event.kind] = result.notifications_by_kind.get(event.kind, 0) + 1
            elif isinstance(event, Transition):
                _track(event, state, open_incidents, result)
        now += step
    return result


def _track(
    t: Transition, state: RuleState, open_: dict[tuple[str, float], dict[str, Any]], result: BacktestResult
) -> None:
    """Incidents are keyed by (group, instance start): a demoted-then-refired alert is one incident."""
    key = group_key(t.group)
    group = state.groups.get(key)
    active_at = group.active_at if group is not None and group.active_at is not None else t.at
    if t.to_status == "firing" and (key, active_at) not in open_:
        incident: dict[str, Any] = {
            "group": t.group,
            "fired_at": iso(t.at),
            "resolved_at": None,
            "value_at_fire": t.value,
        }
        open_[(key, active_at)] = incident
        result.incidents.append(incident)
    elif t.to_status == "resolved" and (key, active_at) in open_:
        open_.pop((key, active_at))["resolved_at"] = iso(t.at)
