"""The documents alerting keeps in the `Store` and the reads/writes the API needs: rules, silences,
channels (with `channel_subscription` for e-mail/SMS in AWS), alert state (`alert_state`, one per
rule), history (`alert_history`), published notifications (`notification_out`), deliveries
(`delivery`), the inbox (`inbox`), dead letters.

Imports: `vigil.domain`, `vigil.ports`.
"""

from __future__ import annotations

import logging
from typing import Any

from vigil.config import Config
from vigil.domain.alerts import GroupState, RuleState, alert_id
from vigil.domain.channels import CHANNEL_DOC_KIND, SUBSCRIPTION_DOC_KIND, Channel
from vigil.domain.errors import Conflict, NotFound
from vigil.domain.rules import Rule, default_rules
from vigil.domain.silences import Silence
from vigil.ports import Store

log = logging.getLogger(__name__)

RULE_KIND = "rule"
SILENCE_KIND = "silence"
CHANNEL_KIND = CHANNEL_DOC_KIND
SUBSCRIPTION_KIND = SUBSCRIPTION_DOC_KIND  # AWS: an e-mail/SMS channel's SNS subscription ARN
STATE_KIND = "alert_state"
HISTORY_KIND = "alert_history"
OUT_KIND = "notification_out"
DELIVERY_KIND = "delivery"
INBOX_KIND = "inbox"
DEAD_LETTER_KIND = "dead_letter"
META_KIND = "alert_meta"


def clean(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored document without the store's bookkeeping (`_version`, ...)."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def load_rules(store: Store) -> list[Rule]:
    """Stored rules, sorted by id; a document that no longer validates is logged and skipped."""
    rules = []
    for doc in store.list_docs(RULE_KIND):
        try:
            rules.append(Rule.model_validate(clean(doc)))
        except ValueError as exc:
            log.error("skipping invalid stored rule %s: %s", doc.get("id"), exc)
    return sorted(rules, key=lambda r: r.id)


def save_rule(store: Store, rule: Rule) -> dict[str, Any]:
    return store.put_doc(RULE_KIND, rule.id, rule.wire())


def ensure_default_rules(store: Store, config: Config) -> list[Rule]:
    """First start: store the default rules once. A marker document remembers it was done, so a user
    who deletes a default rule does not get it back on restart. Returns the rules created."""
    if store.get_doc(META_KIND, "defaults") is not None:
        return []
    created = []
    for rule in default_rules(config.thresholds, config.interval_seconds):
        if store.get_doc(RULE_KIND, rule.id) is None:
            save_rule(store, rule)
            created.append(rule)
    store.put_doc(META_KIND, "defaults", {"seeded": True})
    return created


def load_silences(store: Store) -> list[Silence]:
    out = []
    for doc in store.list_docs(SILENCE_KIND):
        try:
            out.append(Silence.model_validate(clean(doc)))
        except ValueError as exc:
            log.error("skipping invalid stored silence %s: %s", doc.get("id"), exc)
    return out


def load_channel(store: Store, channel_id: str) -> Channel | None:
    doc = store.get_doc(CHANNEL_KIND, channel_id)
    return None if doc is None else Channel.model_validate(clean(doc))


def load_states(store: Store) -> dict[str, tuple[RuleState, int] | Exception]:
    """Every rule's state and stored version, from one read (an evaluator tick reads them all). A
    state that no longer parses maps to its error, so only that rule fails (never starts afresh,
    which could announce its alerts a second time)."""
    out: dict[str, tuple[RuleState, int] | Exception] = {}
    for doc in store.list_docs(STATE_KIND):
        rule_id = str(doc.get("rule_id", doc.get("id", "")))
        try:
            out[rule_id] = (RuleState.from_json(doc), int(doc.get("_version", 0)))
        except Exception as exc:
            out[rule_id] = exc
    return out


def load_state(store: Store, rule_id: str) -> tuple[RuleState | None, int]:
    """The rule's state and its stored version (0 when none: `put_doc(expected_version=0)`)."""
    doc = store.get_doc(STATE_KIND, rule_id)
    if doc is None:
        return None, 0
    return RuleState.from_json(doc), int(doc.get("_version", 0))


def acknowledge(store: Store, instance_id: str, by: str, now: float) -> dict[str, Any]:
    """Acknowledge a firing or pending alert (stops its repeats until it resolves).

    Raises:
        NotFound: no current alert has this id.
        Conflict: the evaluator kept rewriting the state meanwhile (three tries).
    """
    for _ in range(3):
        found = _find_instance(store, instance_id)
        if found is None:
            raise NotFound(f"no pending or firing alert with id {instance_id}")
        state, group, version = found
        group.acked_at, group.acked_by = now, by
        try:
            store.put_doc(STATE_KIND, state.rule_id, state.to_json(), expected_version=version)
        except Conflict:
            continue
        return {"id": instance_id, "acked_at": now, "acked_by": by}
    raise Conflict("the alert changed while acknowledging; try again")


def _find_instance(store: Store, instance_id: str) -> tuple[RuleState, GroupState, int] | None:
    for doc in store.list_docs(STATE_KIND):
        state = RuleState.from_json(doc)
        for key, group in state.groups.items():
            if alert_id(state.rule_id, key) == instance_id and group.status in ("pending", "firing"):
                return state, group, int(doc.get("_version", 0))
    return None


def list_alerts(store: Store, history_limit: int = 200) -> dict[str, list[dict[str, Any]]]:
    """`GET /api/alerts`: current instances by status (resolved = recently resolved) plus history,
    newest first."""
    out: dict[str, list[dict[str, Any]]] = {"firing": [], "pending": [], "resolved": [], "history": []}
    for doc in store.list_docs(STATE_KIND):
        state = RuleState.from_json(doc)
        for key, g in state.groups.items():
            if g.status in ("firing", "pending", "resolved"):
                out[g.status].append(
                    {"id": alert_id(state.rule_id, key), "rule_id": state.rule_id, **g.to_json()}
                )
    history = [clean(d) for d in store.list_docs(HISTORY_KIND)]
    out["history"] = sorted(history, key=lambda h: h.get("at", 0), reverse=True)[:history_limit]
    for status in ("firing", "pending", "resolved"):
        out[status].sort(key=lambda a: a.get("active_at") or 0, reverse=True)
    return out
