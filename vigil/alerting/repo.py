"""The documents alerting keeps in the `Store` and the reads/writes the API needs: rules, silences,
channels (with `channel_subscription` for e-mail/SMS in AWS), alert state (`alert_state` heads and
`alert_state_shard` documents, see `state_shards`), history (`alert_history`), published
notifications (`notification_out`), deliveries (`delivery`), the inbox (`inbox`), dead letters.

Imports: `vigil.domain`, `vigil.ports`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, TypeVar

from vigil.alerting.kinds import (
    CHANNEL_KIND,
    DEAD_LETTER_KIND,
    DELIVERY_KIND,
    HISTORY_KIND,
    INBOX_KIND,
    META_KIND,
    OUT_KIND,
    RULE_KIND,
    SILENCE_KIND,
    SUBSCRIPTION_KIND,
    clean,
    newest_key,
)
from vigil.alerting.state_shards import STATE_KIND, StateRef, load_state, load_states, save_state
from vigil.config import Config
from vigil.domain.alerts import RuleState, alert_id
from vigil.domain.errors import Conflict, NotFound
from vigil.domain.paging import paginate
from vigil.domain.rule_records import RuleRecord, rule_record
from vigil.domain.silence_records import SilenceRecord, silence_record
from vigil.ports import Store

if TYPE_CHECKING:  # the pydantic models load only where the API makes or reads one (below)
    from collections.abc import Callable

    from vigil.domain.channel_models import Channel
    from vigil.domain.rules import Rule
    from vigil.domain.silences import Silence

log = logging.getLogger(__name__)
T = TypeVar("T")

# Re-exported: callers read state and the document kinds here (`kinds` holds them apart from the
# pydantic rule/channel/silence models, for the notify function's cold start).
__all__ = [
    "CHANNEL_KIND",
    "DEAD_LETTER_KIND",
    "DELIVERY_KIND",
    "HISTORY_KIND",
    "INBOX_KIND",
    "META_KIND",
    "OUT_KIND",
    "RULE_KIND",
    "SILENCE_KIND",
    "STATE_KIND",
    "SUBSCRIPTION_KIND",
    "clean",
    "load_state",
    "load_states",
    "newest_key",
]


def load_rules(store: Store) -> list[Rule]:
    """Stored rules as pydantic models (the API's reads, rules-as-code), sorted by id; a document that
    no longer validates is logged and skipped. Message templates were compiled when written and are
    not compiled again (`rules.STORED`)."""
    from vigil.domain.rules import STORED, Rule

    return sorted(
        _loaded(store, RULE_KIND, lambda doc: Rule.model_validate(doc, context={STORED: True})),
        key=lambda r: r.id,
    )


def load_rule_records(store: Store) -> list[RuleRecord]:
    """Stored rules as the evaluator reads them (`rule_records`: no pydantic), sorted by id; a
    document that is not a rule is logged and skipped."""
    return sorted(_loaded(store, RULE_KIND, rule_record), key=lambda r: r.id)


def _loaded(store: Store, kind: str, build: Callable[[dict[str, Any]], T]) -> list[T]:
    """`build` of each stored document of `kind`; one that raises ValueError is logged and skipped."""
    out = []
    for doc in store.list_docs(kind):
        try:
            out.append(build(clean(doc)))
        except ValueError as exc:
            log.error("skipping invalid stored %s %s: %s", kind, doc.get("id"), exc)
    return out


def save_rule(store: Store, rule: Rule) -> dict[str, Any]:
    return store.put_doc(RULE_KIND, rule.id, rule.wire())


INBOX_CHANNEL_ID = "c-inbox"
DEFAULTS_VERSION = 4  # 1: rules only; 2: the inbox channel on every default rule, cadence host-down;
# 3: the synthetic checks' rules ("Check down", "TLS certificate expiring"); 4: "Filesystem full within
# 7 days" (a forecast rule)
ADDED_IN: dict[int, tuple[str, ...]] = {
    3: ("default-check-down", "default-check-tls"),
    4: ("default-disk-forecast",),
}
MAX_RULE_CHANNELS = 20  # `Rule.channels` max_length


def inbox_channel() -> Channel:
    """The in-app inbox as a channel, so the default rules notify somebody from the first start."""
    from vigil.domain.channel_models import Channel  # first start only: not on the evaluation's path

    return Channel(id=INBOX_CHANNEL_ID, type="inbox", name="In-app inbox")


def shipped_rules(config: Config) -> list[Rule]:
    from vigil.domain.rules import default_rules  # seeding and the API only: not on the evaluation's path

    return default_rules(config.thresholds, config.interval_seconds, [INBOX_CHANNEL_ID])


def ensure_default_rules(store: Store, config: Config) -> list[Rule]:
    """First start: the inbox channel and the default rules (notifying it), once. A marker document
    remembers it was done, so a user who deletes a default rule (or the inbox channel) does not get it
    back on restart. An install seeded before (marker version 1) is migrated once: the inbox channel
    is created and added to each default rule still there, and "host not reporting" moves to the
    hosts' own cadence if it still is the window-based rule shipped before. Returns the rules created."""
    marker = store.get_doc(META_KIND, "defaults")
    if marker is not None and int(marker.get("version", 1)) >= DEFAULTS_VERSION:
        return []
    if store.get_doc(CHANNEL_KIND, INBOX_CHANNEL_ID) is None:
        store.put_doc(CHANNEL_KIND, INBOX_CHANNEL_ID, inbox_channel().model_dump())
    created = []
    if marker is None:
        for rule in shipped_rules(config):
            if store.get_doc(RULE_KIND, rule.id) is None:
                save_rule(store, rule)
                created.append(rule)
    else:
        shipped = shipped_rules(config)
        _migrate_defaults(store, shipped)
        added = {
            i for version, ids in ADDED_IN.items() if int(marker.get("version", 1)) < version for i in ids
        }
        for rule in shipped:
            if rule.id in added and store.get_doc(RULE_KIND, rule.id) is None:
                save_rule(store, rule)
                created.append(rule)
    store.put_doc(META_KIND, "defaults", {"seeded": True, "version": DEFAULTS_VERSION})
    return created


def _migrate_defaults(store: Store, shipped: list[Rule]) -> None:
    by_id = {r.id: r for r in shipped}
    for rule in load_rules(store):
        new = by_id.get(rule.id)
        if new is None:
            continue
        update: dict[str, Any] = {}
        if INBOX_CHANNEL_ID not in rule.channels and len(rule.channels) < MAX_RULE_CHANNELS:
            update["channels"] = [*rule.channels, INBOX_CHANNEL_ID]
        if rule.agg == "absent" and rule.group_by == ["host"] and rule.missed_intervals is None:
            update["missed_intervals"] = new.missed_intervals
        if update:
            save_rule(store, rule.model_copy(update=update))


def attach_to_default_rules(store: Store, config: Config, channel_id: str) -> list[str]:
    """Add a channel to every default rule still there (the first external channel's offer); returns
    the ids of the rules it was added to."""
    ensure_default_rules(store, config)
    shipped = {r.id for r in shipped_rules(config)}
    attached = []
    for rule in load_rules(store):
        if rule.id in shipped and channel_id not in rule.channels and len(rule.channels) < MAX_RULE_CHANNELS:
            save_rule(store, rule.model_copy(update={"channels": [*rule.channels, channel_id]}))
            attached.append(rule.id)
    return attached


def load_silences(store: Store) -> list[Silence]:
    """Stored silences as pydantic models (the API's reads)."""
    from vigil.domain.silences import Silence

    return _loaded(store, SILENCE_KIND, Silence.model_validate)


def load_silence_records(store: Store) -> list[SilenceRecord]:
    """Stored silences as the evaluator reads them (`silence_records`: no pydantic)."""
    return _loaded(store, SILENCE_KIND, silence_record)


def load_channel(store: Store, channel_id: str) -> Channel | None:
    from vigil.domain.channel_models import Channel  # the API's reads: not on the evaluation's path

    doc = store.get_doc(CHANNEL_KIND, channel_id)
    return None if doc is None else Channel.model_validate(clean(doc))


def acknowledge(store: Store, instance_id: str, by: str, now: float) -> dict[str, Any]:
    """Acknowledge a firing or pending alert (stops its repeats until it resolves). Writes the
    group's shard and the head only.

    Raises:
        NotFound: no current alert has this id.
        Conflict: the evaluator kept rewriting the state meanwhile (three tries).
    """
    for _ in range(3):
        found = _find_instance(store, instance_id)
        if found is None:
            raise NotFound(f"no pending or firing alert with id {instance_id}")
        state, key, ref = found
        stored = RuleState.from_json(state.to_json())
        state.groups[key].acked_at, state.groups[key].acked_by = now, by
        try:
            save_state(store, state, ref, stored, now=now)
        except Conflict:
            continue
        return {"id": instance_id, "acked_at": now, "acked_by": by}
    raise Conflict("the alert changed while acknowledging; try again")


def _find_instance(store: Store, instance_id: str) -> tuple[RuleState, str, StateRef] | None:
    for loaded in load_states(store).values():
        if isinstance(loaded, Exception):
            continue
        state, ref = loaded
        for key, group in state.groups.items():
            if alert_id(state.rule_id, key) == instance_id and group.status in ("pending", "firing"):
                return state, key, ref
    return None


def list_alerts(
    store: Store, history_limit: int = 200, cursor: str | None = None, now: float | None = None
) -> dict[str, Any]:
    """`GET /api/alerts`: current instances by status (resolved = recently resolved) plus a page of
    history, newest first, and the cursor of the next history page (`next_cursor`). With `now`, a
    firing or pending instance that an active silence matches carries `silenced_by` (the silence's
    id), so the firing list can say it is muted."""
    out: dict[str, Any] = {"firing": [], "pending": [], "resolved": [], "history": []}
    for loaded in load_states(store).values():
        if isinstance(loaded, Exception):
            continue
        state = loaded[0]
        for key, g in state.groups.items():
            if g.status in ("firing", "pending", "resolved"):
                out[g.status].append(
                    {"id": alert_id(state.rule_id, key), "rule_id": state.rule_id, **g.to_json()}
                )
    history = sorted((clean(d) for d in store.list_docs(HISTORY_KIND)), key=newest_key, reverse=True)
    out["history"], out["next_cursor"] = paginate(
        history, newest_key, limit=history_limit, cursor=cursor, descending=True
    )
    for status in ("firing", "pending", "resolved"):
        out[status].sort(key=lambda a: a.get("active_at") or 0, reverse=True)
    if now is not None and (out["firing"] or out["pending"]):
        _mark_silenced([*out["firing"], *out["pending"]], store, now)
    return out


def _mark_silenced(instances: list[dict[str, Any]], store: Store, now: float) -> None:
    from vigil.domain.silence_records import alert_labels, muting

    silences = load_silence_records(store)
    if not silences:
        return
    rules = {r.id: r for r in load_rule_records(store)}
    for a in instances:
        rule = rules.get(a["rule_id"])
        if rule is None:
            continue
        labels = alert_labels(rule.id, rule.name, rule.severity, a.get("labels") or {})
        silence = muting(silences, labels, now)
        if silence is not None:
            a["silenced_by"] = silence.id
