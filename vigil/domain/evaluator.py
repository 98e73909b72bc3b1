"""The alert state machine: a pure function of (rule, points, previous state, now) — it never reads a
clock, a store or the network, so tests step time minute by minute over scripted series.

Prometheus semantics per group (`group_by`): a breach makes the group `pending` (its `active_at` names
the alert instance); after `for` it is `firing`; when the breach ends it is `resolved` (or stays
firing for `keep_firing_for`), and the resolved instance is remembered `resolved_retention` before it
becomes `inactive`. Raising `for` on a firing rule demotes it to `pending`. Beyond Prometheus:

- Notifications follow what receivers were told (`GroupState.told`): firing is announced once, repeated
  every `repeat_interval` (not when acknowledged), and resolved once if firing was announced.
- Flapping: more than `flap_max_changes` firing-boundary changes within `flap_window` marks the group
  flapping; one digest replaces its notifications until it has been quiet for `flap_settle`, then one
  "settled" notice states where it ended (firing or resolved).
- Silences mute firing, repeat and flapping notices but never state or history; a resolve is still
  sent when its firing was announced, so no receiver is left with an incident that never closes.

Each notification id is deterministic (rule, group, kind, instance start, sequence). Imports: standard
library and `vigil.domain` only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from vigil.domain.aggregate import aggregate
from vigil.domain.alert_messages import message_for
from vigil.domain.alerts import (
    GroupState,
    Notification,
    NotificationKind,
    RuleState,
    Transition,
    group_key,
    notification_id,
)
from vigil.domain.cadence import Reporting, host_status
from vigil.domain.forecast import forecast_groups
from vigil.domain.records import Point
from vigil.domain.rollups import Rollup
from vigil.domain.rule_records import CHECKS_HOST, RuleRecord, as_record, compare
from vigil.domain.seasonal import Band, group_bands
from vigil.domain.silence_records import Silencing, alert_labels, muting

if TYPE_CHECKING:  # the pydantic model (the API's, tests'): only its type
    from vigil.domain.rules import Rule

Event = Transition | Notification


@dataclass(frozen=True)
class EvalOptions:
    """Documented defaults (docs/alerting.md)."""

    flap_max_changes: int = 4  # more than 4 changes (two full fire/resolve cycles) ...
    flap_window: float = 1800.0  # ... within 30 minutes is flapping
    flap_settle: float = 600.0  # flapping ends after 10 minutes without a change
    resolved_retention: float = 900.0  # resolved instances stay visible (and re-notifiable) 15 min
    absent_forget: float = 86400.0  # an `absent` rule stops watching a group unseen for a day


DEFAULT_OPTIONS = EvalOptions()
# How far a stored `GroupState.last_seen` (an `absent` rule's) or a shown alert value may lag.
LAST_SEEN_REFRESH = 300.0


def evaluate(
    rule: RuleRecord | Rule,
    data: Iterable[Point],
    state: RuleState | None,
    now: float,
    *,
    silences: Sequence[Silencing] = (),
    options: EvalOptions = DEFAULT_OPTIONS,
    reporting: Reporting | None = None,
    rollups: Sequence[Rollup] = (),
    baseline: Sequence[Rollup] = (),
) -> tuple[RuleState, list[Event]]:
    """Evaluate `rule` at `now` over the points in `(now - window, now]` found in `data` (and, for a
    long window, the hourly `rollups` of its whole hours that `data` leaves out: `aggregate`); a rule
    with `missed_intervals` looks at the hosts' pushes in `reporting` instead (no reporting: no breach).
    A `forecast` rule compares each group's linear prediction (`forecast_groups`); an `outside_band`
    rule compares its value with the group's hour-of-week band from the hourly `baseline` rollups
    (`seasonal`; no band, no breach).

    Returns the new state (the input is not modified) and the transitions and notifications, in group
    order. A disabled rule sees no breach, so its alerts resolve.
    """
    rule = as_record(rule)
    st = RuleState.from_json(state.to_json()) if state is not None else RuleState(rule.id)
    by_cadence = rule.missed_intervals is not None
    enabled = rule.enabled and not by_cadence
    reduce = forecast_groups if rule.forecast is not None else aggregate
    values = reduce(rule, data, now - rule.window, now, rollups) if enabled else {}
    bands = group_bands(rule, baseline, now) if enabled and rule.condition == "outside_band" else {}
    breaches: dict[str, tuple[dict[str, str], float | None]] = {}
    for key, gv in values.items():
        group = st.groups.setdefault(key, GroupState(labels=gv.labels))
        group.last_seen = now
        if rule.agg != "absent" and gv.value is not None and _breached(rule, gv.value, bands.get(key)):
            breaches[key] = (gv.labels, gv.value)
    if by_cadence and rule.enabled and reporting is not None:
        breaches = _missed_cadence(rule, st, reporting, now)
    elif rule.agg == "absent" and rule.enabled and not by_cadence:
        if rule.filter.host is not None and rule.group_by == ["host"]:
            host_only = {"host": rule.filter.host}
            st.groups.setdefault(group_key(host_only), GroupState(labels=host_only))
        for key, group in st.groups.items():
            if key not in values:
                silent_for = None if group.last_seen is None else now - group.last_seen
                breaches[key] = (group.labels, silent_for)

    events: list[Event] = []
    for key in sorted(st.groups):
        group = st.groups[key]
        breach = breaches.get(key)
        observed = breach[1] if breach else values[key].value if key in values else group.value
        events.extend(_step(rule, key, group, breach is not None, observed, now, silences, options))
    for key, group in list(st.groups.items()):
        if _forgettable(rule, group, now, options):
            del st.groups[key]
    st.evaluated_at = now
    return st, events


def _breached(rule: RuleRecord, value: float, band: Band | None) -> bool:
    if rule.condition == "outside_band":
        return band is not None and not band.contains(value)
    return compare(value, rule.op, rule.threshold)


def _missed_cadence(
    rule: RuleRecord, st: RuleState, reporting: Reporting, now: float
) -> dict[str, tuple[dict[str, str], float | None]]:
    """Hosts with an established cadence become groups (`last_seen` = their last push); those past
    their silence limit breach with the seconds they have been silent. A host that never established
    a cadence is not watched: one push promises nothing."""
    assert rule.missed_intervals is not None
    breaches: dict[str, tuple[dict[str, str], float | None]] = {}
    for host, cadence in reporting.hosts.items():
        if rule.filter.host not in (None, host) or cadence.last_push is None or cadence.interval is None:
            continue
        if host == CHECKS_HOST and rule.filter.host is None:
            continue  # the check runner's samples stop when the last check is deleted: not an outage
        group = st.groups.setdefault(f"host={host}", GroupState(labels={"host": host}))
        group.last_seen = cadence.last_push
        status = host_status(
            cadence, now, missed=rule.missed_intervals, evaluation_period=reporting.evaluation_period
        )
        if status == "down":
            breaches[f"host={host}"] = (group.labels, now - cadence.last_push)
    return breaches


def needs_saving(
    rule: RuleRecord, stored: RuleState | None, new: RuleState, *, refresh: float = LAST_SEEN_REFRESH
) -> bool:
    """Whether the evaluator must write `new` over `stored` (the document as loaded, outbox unfiltered).

    A steady tick changes only bookkeeping no later tick depends on, and saves nothing: `evaluated_at`,
    `last_seen`, `last_breach_at` (unless the rule has `keep_firing_for`, which counts from it) and
    `value`. Everything else is saved at once: a new or forgotten group, any status, instance,
    notification (`told`, repeat, flapping, acknowledgement) or flap-window change; an outbox that
    changed or still holds notices (the versioned write claims them, so two overlapping runs cannot
    both publish). Two things are refreshed once the stored `last_seen` lags by `refresh`: an `absent`
    rule's `last_seen` (groups unseen for a day are forgotten by it, and the silence it reports is
    exact to within `refresh`) and the value the API shows for a pending or firing alert.
    """
    if stored is None:
        return bool(new.groups or new.outbox)
    if new.outbox or [m.get("id") for m in stored.outbox] != [m.get("id") for m in new.outbox]:
        return True
    if stored.groups.keys() != new.groups.keys():
        return True
    for key, after in new.groups.items():
        before = stored.groups[key]
        if _essential(rule, before) != _essential(rule, after):
            return True
        shown = after.status in ("pending", "firing") and after.value != before.value
        if (rule.agg == "absent" or shown) and _lags(before, after, refresh):
            return True
    return False


def _essential(rule: RuleRecord, group: GroupState) -> dict[str, object]:
    data = group.to_json()
    del data["last_seen"], data["value"]
    if rule.keep_firing_for <= 0:
        del data["last_breach_at"]
    return data


def _lags(before: GroupState, after: GroupState, refresh: float) -> bool:
    """Whether the stored group is `refresh` behind (`last_seen` moves on every tick with data)."""
    if before.last_seen is None or after.last_seen is None:
        return before.last_seen != after.last_seen
    return after.last_seen - before.last_seen >= refresh


def _step(
    rule: RuleRecord,
    key: str,
    g: GroupState,
    breach: bool,
    value: float | None,
    now: float,
    silences: Sequence[Silencing],
    o: EvalOptions,
) -> list[Event]:
    before = g.status
    g.value = value
    if breach:
        g.last_breach_at = now
        if g.status in ("inactive", "resolved"):  # a new alert instance
            g.status, g.active_at, g.fired_at, g.resolved_at = "pending", now, None, None
            g.repeat_seq, g.acked_at, g.acked_by = 0, None, None
        held = now - (g.active_at if g.active_at is not None else now)
        if g.status == "pending" and held >= rule.for_:
            g.status = "firing"
            g.fired_at = g.fired_at if g.fired_at is not None else now
            g.changes.append(now)
        elif g.status == "firing" and held < rule.for_:  # `for` was raised: not held long enough now
            g.status = "pending"
            g.changes.append(now)
    elif g.status == "pending":
        # A pending instance that never fired simply ends; one demoted from firing was announced.
        g.status = "resolved" if g.fired_at is not None else "inactive"
        if g.status == "resolved":
            g.resolved_at = now
            g.changes.append(now)
    elif g.status == "firing":
        kept = g.last_breach_at is not None and now - g.last_breach_at < rule.keep_firing_for
        if not kept:
            g.status, g.resolved_at = "resolved", now
            g.changes.append(now)
    elif g.status == "resolved" and g.resolved_at is not None and now - g.resolved_at >= o.resolved_retention:
        g.status = "inactive"
    g.changes = [t for t in g.changes if now - t < o.flap_window]

    labels = alert_labels(rule.id, rule.name, rule.severity, g.labels)
    muted = muting(list(silences), labels, now) is not None
    events: list[Event] = []
    if g.status != before and not (before == "resolved" and g.status == "inactive"):
        events.append(Transition(rule.id, rule.name, dict(g.labels), before, g.status, now, value, muted))
    events.extend(_notify(rule, key, g, now, muted, o))
    return events


def _notify(
    rule: RuleRecord, key: str, g: GroupState, now: float, muted: bool, o: EvalOptions
) -> list[Event]:
    settled = False
    if not g.flapping and len(g.changes) > o.flap_max_changes:
        g.flapping, g.flap_started_at = True, now
    if g.flapping:
        if g.changes and now - g.changes[-1] < o.flap_settle:
            if g.told != "flapping" and not muted:
                g.told = "flapping"
                return [_build(rule, key, g, "flapping", now)]
            return []
        g.flapping, settled = False, True
    was_flapping = settled or g.told == "flapping"
    if g.status == "firing":
        if g.told != "firing":
            if muted:
                return []
            g.told, g.last_sent_at = "firing", now
            return [_build(rule, key, g, "settled" if was_flapping else "firing", now)]
        due = g.last_sent_at is not None and now - g.last_sent_at >= rule.repeat_interval
        if rule.repeat_interval > 0 and due and not muted and g.acked_at is None:
            g.repeat_seq += 1
            g.last_sent_at = now
            return [_build(rule, key, g, "repeat", now)]
        return []
    if g.told != "none" and g.status != "pending":
        g.told = "none"
        return [_build(rule, key, g, "settled" if was_flapping else "resolved", now)]
    return []


def _build(rule: RuleRecord, key: str, g: GroupState, kind: NotificationKind, now: float) -> Notification:
    started = g.active_at if g.active_at is not None else now
    flap_anchor = g.flap_started_at if g.flap_started_at is not None else started
    anchor = flap_anchor if kind in ("flapping", "settled") else started
    seq = g.repeat_seq if kind == "repeat" else 0
    status: Literal["firing", "resolved"] = (
        "firing" if g.status in ("firing", "pending") and kind != "resolved" else "resolved"
    )
    n = Notification(
        id=notification_id(rule.id, key, kind, anchor, seq),
        kind=kind,
        status=status,
        rule_id=rule.id,
        rule_name=rule.name,
        severity=rule.severity,
        group=dict(g.labels),
        value=g.value,
        threshold=float(rule.threshold),
        op=rule.op,
        started_at=started,
        resolved_at=g.resolved_at if status == "resolved" else None,
        channels=tuple(rule.channels),
        message="",
        created_at=now,
        unit=rule.unit,
        display_scale=float(rule.display_scale),
        flapping=kind == "flapping",
        changes=len(g.changes),
    )
    return Notification(**{**n.__dict__, "message": message_for(rule, n, DEFAULT_OPTIONS.flap_window)})


def _forgettable(rule: RuleRecord, g: GroupState, now: float, o: EvalOptions) -> bool:
    if g.status != "inactive" or g.flapping or g.changes or g.told != "none":
        return False
    if rule.agg != "absent":
        return True
    return g.last_seen is None or now - g.last_seen > o.absent_forget
