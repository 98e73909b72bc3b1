"""What a notification says: the rule's jinja2 template rendered in its sandbox
(`vigil.domain.templates`), or the default message; a template that fails or breaks a limit gives the
default message with a note saying why. Split from the state machine (`vigil.domain.evaluator`),
which calls `message_for` when it builds a notification. Imports: standard library and
`vigil.domain` only.
"""

from __future__ import annotations

from vigil.domain.alerts import Notification
from vigil.domain.rule_records import RuleRecord
from vigil.domain.templates import TemplateFailure, render
from vigil.domain.timeparse import iso


def message_for(rule: RuleRecord, n: Notification, flap_window: float) -> str:
    """The rule's template, or the default message; a template that fails or breaks a limit
    (`vigil.domain.templates`) gives the default message with a note saying why."""
    if not rule.message:
        return default_message(rule, n, flap_window)
    try:
        return render(rule.message, _context(rule, n))
    except TemplateFailure as exc:
        return (
            f"{default_message(rule, n, flap_window)}\n(message template failed: {exc}; default message sent)"
        )


def default_message(rule: RuleRecord, n: Notification, flap_window: float) -> str:
    """The body text when a rule has no template; channels show `n.title()` above it."""
    if n.flapping:
        return (
            f"Changed state {n.changes} times in the last {_span(flap_window)}; "
            "notifications are paused until it settles."
        )
    if rule.missed_intervals is not None:
        return (
            f"Not reporting for {_span(round(n.value or 0.0))} "
            f"(missed {rule.missed_intervals} of its reporting intervals)."
            if n.status == "firing"
            else "Reporting again."
        )
    if rule.agg == "absent":
        return (
            f"No {rule.metric} data for {_span(rule.window)}."
            if n.status == "firing"
            else f"{rule.metric} is reporting again."
        )
    verb = "is" if n.status == "firing" else "is back to"
    if rule.forecast is not None:
        verb = "predicted" if n.status == "firing" else "now predicted"
        return (
            f"{rule.agg}({rule.metric}) over {_span(rule.window)} {verb} {n.display(n.value)} "
            f"in {_span(rule.forecast, days=True)} (alert when {rule.op} {n.display(n.threshold)})."
        )
    if rule.condition == "outside_band":
        where = "outside" if n.status == "firing" else "back inside"
        return (
            f"{rule.agg}({rule.metric}) over {_span(rule.window)} {verb} {n.display(n.value)}, "
            f"{where} its usual range for this hour of the week."
        )
    return (
        f"{rule.agg}({rule.metric}) over {_span(rule.window)} {verb} {n.display(n.value)} "
        f"(alert when {rule.op} {n.display(n.threshold)})."
    )


def _span(seconds: float, *, days: bool = False) -> str:
    if days and seconds >= 86400 and seconds % 86400 == 0:
        return f"{seconds / 86400:.0f} d"
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:g}s"


def _context(rule: RuleRecord, n: Notification) -> dict[str, object]:
    return {
        "rule": {
            "id": rule.id,
            "name": rule.name,
            "severity": rule.severity,
            "metric": rule.metric,
            "agg": rule.agg,
            "op": rule.op,
        },
        "status": n.status,
        "kind": n.kind,
        "group": n.group,
        "value": n.value,
        "value_display": n.display(n.value),
        "threshold": n.threshold,
        "threshold_display": n.display(n.threshold),
        "started_at": iso(n.started_at),
        "resolved_at": iso(n.resolved_at) if n.resolved_at is not None else None,
        "flapping": n.flapping,
    }
