"""The scheduled evaluation run: for each rule, load its state, fetch the window's points, evaluate,
save the new state *together with* the notifications it produced (the outbox lives in the state
document, so a transition and its notice are stored atomically), record history, then publish the
outbox and mark each published notification with a `notification_out` record keyed by its
deterministic id.

Writes: a rule's state is saved only when it changed in something that must survive
(`evaluator.needs_saving`): a steady tick writes no document at all.

Crash safety: a run that dies after saving the state but before publishing leaves the notices in the
outbox; the next run publishes them exactly once (those with a `notification_out` record are dropped).
A crash between a publish and its record re-publishes that notice once; the notify side dedupes on
the notification id per channel (`delivery.deliver`). A run that loses the race for a rule's state
(`Conflict`) skips that rule: the other run owns it.

Cost: the samples are read once per tick for all rules with windows up to an hour (`Store.query_many`
over the union of their metrics and their longest window; on DynamoDB one Query per host), plus one
read per longer window over only its rules' metrics, mostly from the daily and hourly rollups for
windows over 6 hours (`vigil.alerting.windows`); each rule takes its metric's points (and rollups);
`aggregate` applies the window, host and label filters. Rules that watch hosts' reporting cadence
(`missed_intervals`) read no samples: every host's pushes are listed once per tick, on DynamoDB from the
shared window's Queries (`windows.read_tick`: one request per host for both). AWS evaluates the forecasts
over settled rollups hourly, in a run of their own (`run="hourly"`), not in the minute tick. If
either read fails, no rule is evaluated (an empty read would resolve every alert and fire every
`absent` rule): each is reported failed and the next tick retries. Imports: `vigil.domain`,
`vigil.ports`, `vigil.alerting`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from vigil.alerting import dead_letters
from vigil.alerting.ports import Attributes, Publisher
from vigil.alerting.repo import (
    HISTORY_KIND,
    META_KIND,
    OUT_KIND,
    RULE_KIND,
    load_rule_records,
    load_silence_records,
)
from vigil.alerting.state_shards import (
    StateRef,
    collect_orphans,
    delete_state,
    load_state,
    load_states,
    save_state,
)
from vigil.alerting.windows import EvalRun, WindowData, in_run, read_tick, window_key
from vigil.domain.alerts import Notification, RuleState, Transition
from vigil.domain.cadence import Reporting
from vigil.domain.errors import Conflict
from vigil.domain.evaluator import DEFAULT_OPTIONS, EvalOptions, Event, evaluate, needs_saving
from vigil.domain.rule_records import RuleRecord, as_record
from vigil.domain.silence_records import Silencing
from vigil.ports import Store

if TYPE_CHECKING:  # the pydantic model: the API and tests pass it; the scheduled run never loads it
    from vigil.domain.rules import Rule

log = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 3600.0


@dataclass
class EvaluationReport:
    evaluated: int = 0
    transitions: int = 0
    published: list[str] = field(default_factory=list)  # notification ids
    publish_failures: dict[str, str] = field(default_factory=dict)  # id → reason (kept for next run)
    conflicts: list[str] = field(default_factory=list)  # rule ids another run was evaluating
    failed: dict[str, str] = field(default_factory=dict)  # rule id → error


def notification_attributes(message: dict[str, Any]) -> Attributes:
    """SNS message attributes the subscription filter policies route on."""
    attrs: Attributes = {
        "severity": str(message["severity"]),
        "status": str(message["status"]),
        "kind": str(message["kind"]),
    }
    if message.get("channels"):
        attrs["channels"] = [str(c) for c in message["channels"]]
    return attrs


def run_evaluation(
    store: Store,
    publisher: Publisher,
    rules: Sequence[RuleRecord | Rule] | None,
    now: float,
    *,
    silences: Sequence[Silencing] | None = None,
    options: EvalOptions = DEFAULT_OPTIONS,
    evaluation_period: float = 60.0,
    run: EvalRun = "all",
) -> EvaluationReport:
    """One evaluator tick at `now` (rules and silences are loaded from the store when None);
    `evaluation_period` is how often ticks come (the grace of "host not reporting" rules); `run`: which
    of the rules (`windows.EvalRun`: AWS evaluates the hourly ones in a run of their own, which leaves
    retired rules and orphaned state shards to the minute tick).

    Never raises for one rule's failure (it is logged and reported; the next tick retries); an
    exception that is not an `Exception` (process shutdown) propagates, leaving the outbox for the
    next run.
    """
    loaded = rules is None  # only then can a state without a rule be told apart from a retired one
    every = load_rule_records(store) if rules is None else [as_record(r) for r in rules]
    running = [r for r in every if in_run(r, run)]
    active = [
        s for s in (load_silence_records(store) if silences is None else silences) if not s.expired(now)
    ]
    report = EvaluationReport()
    try:
        points_for, listed = read_tick(store, running, now, with_hosts=watches_cadence(running))
        reporting = (
            None if listed is None else Reporting({h.host: h.cadence for h in listed}, evaluation_period)
        )
    except Exception as exc:
        log.exception("reading samples for the evaluation failed; every rule waits for the next tick")
        report.failed = {rule.id: f"{type(exc).__name__}: {exc}" for rule in running}
        return report
    states = load_states(store)  # one read for every rule's state, not one per rule
    for rule in running:
        try:
            window = (points_for.get(window_key(rule)) if rule.enabled else None) or WindowData()
            loaded_state = states.get(rule.id, (None, StateRef()))
            if isinstance(loaded_state, Exception):
                raise loaded_state
            _evaluate_rule(
                store, publisher, rule, window, loaded_state, now, active, options, report, reporting
            )
        except Conflict:
            report.conflicts.append(rule.id)
        except Exception as exc:
            log.exception("evaluating rule %s failed", rule.id)
            report.failed[rule.id] = f"{type(exc).__name__}: {exc}"
    if run == "hourly":  # the minute tick, running anyway, does the housekeeping
        return report
    if loaded:
        _drain_retired(store, publisher, {r.id for r in every}, states, now, report)
    _maybe_prune(store, now)
    return report


def retire_rule(
    store: Store,
    publisher: Publisher | None,
    rule: RuleRecord | Rule,
    now: float,
    *,
    silences: Sequence[Silencing] | None = None,
) -> EvaluationReport:
    """Delete a rule the way a receiver expects: each of its announced alerts resolves now (resolve
    notices published, history kept), then the rule and its state go. `keep_firing_for` and flapping
    are not honoured: the rule will never speak again, so its last word must be the resolve.

    The state with its outbox is saved before the rule is deleted, so a publish that fails here (or a
    crash, or no `publisher`: the CLI) leaves the notices to the next evaluation tick, which publishes
    them and then drops the state (`_drain_retired`).

    Raises:
        Conflict: an evaluation run rewrote the state meanwhile; the rule is left as it was.
    """
    report = EvaluationReport()
    active = [
        s for s in (load_silence_records(store) if silences is None else silences) if not s.expired(now)
    ]
    state, ref = load_state(store, rule.id)
    stored = None if state is None else RuleState.from_json(state.to_json())
    if state is not None:
        state.outbox = [m for m in state.outbox if store.get_doc(OUT_KIND, str(m["id"])) is None]
        for group in state.groups.values():
            group.flapping, group.changes = False, []  # a flapping digest must not swallow the resolve
        last = replace(as_record(rule), enabled=False, keep_firing_for=0.0)
        new_state, events = evaluate(last, [], state, now, silences=active)
        new_state.outbox = [*state.outbox, *(e.to_message() for e in events if isinstance(e, Notification))]
        save_state(store, new_state, ref, stored, now=now)
        _record_history(store, events, report)
        state = new_state
    store.delete_doc(RULE_KIND, rule.id)
    if state is not None and publisher is not None:
        publish_outbox(store, publisher, state.outbox, now, report)
        if not report.publish_failures:
            delete_state(store, rule.id)
    return report


def _drain_retired(
    store: Store,
    publisher: Publisher,
    live: set[str],
    states: dict[str, tuple[RuleState, StateRef] | Exception],
    now: float,
    report: EvaluationReport,
) -> None:
    """Publish what deleted rules left in their outbox, then forget their state."""
    for rule_id, loaded in states.items():
        if rule_id in live or isinstance(loaded, Exception) or store.get_doc(RULE_KIND, rule_id) is not None:
            continue  # the last test: a stored rule that no longer validates keeps its state
        before = len(report.publish_failures)
        publish_outbox(store, publisher, loaded[0].outbox, now, report)
        if len(report.publish_failures) == before:
            delete_state(store, rule_id)


def watches_cadence(rules: Sequence[RuleRecord]) -> bool:
    """Whether an enabled rule watches reporting cadence: then the tick lists every host's pushes."""
    return any(r.enabled and r.missed_intervals is not None for r in rules)


def _evaluate_rule(
    store: Store,
    publisher: Publisher,
    rule: RuleRecord,
    window: WindowData,
    loaded: tuple[RuleState | None, StateRef],
    now: float,
    silences: Sequence[Silencing],
    options: EvalOptions,
    report: EvaluationReport,
    reporting: Reporting | None,
) -> None:
    state, ref = loaded
    stored = None if state is None else RuleState.from_json(state.to_json())
    if state is not None:  # drop what an earlier run already published
        state.outbox = [m for m in state.outbox if store.get_doc(OUT_KIND, str(m["id"])) is None]
    new_state, events = evaluate(
        rule,
        window.points,
        state,
        now,
        silences=silences,
        options=options,
        reporting=reporting,
        rollups=window.rollups,
        baseline=window.baseline,
    )
    new_state.outbox = [
        *(state.outbox if state else []),
        *(e.to_message() for e in events if isinstance(e, Notification)),
    ]
    # A steady tick writes nothing (the evaluator's write cost, docs/data-model.md); whatever a later
    # tick or a crash recovery needs is written, with the notices, before anything is published --
    # and of a sharded state only the shards whose groups need it (`needs_saving` per shard).
    save_state(store, new_state, ref, stored, lambda old, new: needs_saving(rule, old, new), now=now)
    report.evaluated += 1
    _record_history(store, events, report)
    publish_outbox(store, publisher, new_state.outbox, now, report)


def _record_history(store: Store, events: Sequence[Event], report: EvaluationReport) -> None:
    for event in events:
        if isinstance(event, Transition):
            store.put_doc(HISTORY_KIND, event.id, event.to_json())
            report.transitions += 1


def publish_outbox(
    store: Store, publisher: Publisher, outbox: Sequence[dict[str, Any]], now: float, report: EvaluationReport
) -> None:
    for message in outbox:
        nid = str(message["id"])
        if store.get_doc(OUT_KIND, nid) is not None:
            continue
        try:
            publisher.publish(message, notification_attributes(message))
        except Exception as exc:
            if not _refused_for_good(exc):
                log.warning(
                    "publishing notification %s failed; kept for the next run: %s", nid, type(exc).__name__
                )
                report.publish_failures[nid] = type(exc).__name__
                continue
            # SNS refuses this message whatever we do: a dead letter, not a retry on every tick
            dead_letters.record(store, message, {"*": f"SNS refused it: {exc}"}, now, source="publish")
        # published, or dead-lettered for good: either way it leaves the outbox
        store.put_doc(
            OUT_KIND,
            nid,
            {
                "id": nid,
                "rule_id": message["rule_id"],
                "kind": message["kind"],
                "status": message["status"],
                "group": message["group"],
                "channels": message["channels"],
                "published_at": now,
            },
        )
        report.published.append(nid)


def _refused_for_good(exc: Exception) -> bool:
    """botocore's answer to a message SNS will never accept (bad subject, too large, bad attribute)."""
    code = getattr(exc, "response", {}).get("Error", {}).get("Code")
    return code in ("InvalidParameter", "InvalidParameterValue", "ParameterValueInvalid")


def _maybe_prune(store: Store, now: float) -> None:
    """Hourly: delete alert-state shards a crash left unreferenced. (History and publish records
    expire by retention: a DynamoDB TTL, the local retention job; `vigil.alerting.retention`.)"""
    marker = store.get_doc(META_KIND, "pruned")
    if marker is not None and now - float(marker.get("at", 0)) < PRUNE_EVERY_SECONDS:
        return
    collect_orphans(store, now)
    store.put_doc(META_KIND, "pruned", {"at": now})
