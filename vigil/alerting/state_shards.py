"""Alert state stored in shards: one head document per rule plus its groups spread over shard
documents, so a rule over 10,000 groups stays under DynamoDB's item limit and a tick writes only the
shards that changed (issue 11.5).

Head (`alert_state` / `<rule id>`): `rule_id`, `outbox`, `evaluated_at`, `n` (shard count) and
`shards` (`{index: shard document id}`); no groups. Shard (`alert_state_shard` / `<rule id>#<token>`):
`rule_id`, `index`, `groups`, `written_at`. A group lives in shard `crc32(group key) % n`; `n` is a
power of two keeping shards near `GROUPS_PER_SHARD` groups (grown past it, shrunk below a quarter).

Writes are copy-on-write: changed shards go to NEW documents (a fresh token), then the head is written
with the rule's expected version, pointing at them; only after that are the replaced shard documents
deleted. So a head always names a complete state: a run that loses the version race deletes its new
shards and leaves the winner's untouched, and a crash leaves only unreferenced shards (collected by
`collect_orphans`, hourly). A head still holding `groups` (written before shards existed) is read
as it is and rewritten sharded on its next save.

Imports: `vigil.domain`, `vigil.ports`.
"""

from __future__ import annotations

import logging
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vigil.domain.alerts import GroupState, RuleState
from vigil.domain.errors import Conflict
from vigil.ports import Store

log = logging.getLogger(__name__)

STATE_KIND = "alert_state"
SHARD_KIND = "alert_state_shard"
GROUPS_PER_SHARD = 64  # ≤ ~23 KB of JSON: a changed group rewrites ≤ ~23 WRU, not the whole rule
ORPHAN_AGE_SECONDS = 3600.0  # an unreferenced shard this old is no write in flight: delete it

Changed = Callable[[RuleState | None, RuleState], bool]


@dataclass
class StateRef:
    """Where a rule's stored state lives: the head's version and its shard documents."""

    version: int = 0
    n: int = 1
    shards: dict[int, str] = field(default_factory=dict)


def shard_of(key: str, n: int) -> int:
    return zlib.crc32(key.encode()) % n


def shard_count(groups: int, current: int = 0) -> int:
    """Shards for `groups`: the current count while it fits (no reshuffle on small changes), else the
    smallest power of two with at most `GROUPS_PER_SHARD` groups per shard."""
    if current and current * GROUPS_PER_SHARD // 4 <= groups <= current * GROUPS_PER_SHARD:
        return current
    n = 1
    while n * GROUPS_PER_SHARD < groups:
        n *= 2
    return n


def load_states(store: Store) -> dict[str, tuple[RuleState, StateRef] | Exception]:
    """Every rule's state, from two listings (heads, shards). A state that cannot be assembled maps to
    its error, so only that rule fails (never starts afresh, which could announce alerts twice)."""
    shards = {str(d["id"]): d for d in store.list_docs(SHARD_KIND)}
    out: dict[str, tuple[RuleState, StateRef] | Exception] = {}
    for head in store.list_docs(STATE_KIND):
        rule_id = str(head.get("rule_id", head.get("id", "")))
        try:
            out[rule_id] = _assemble(head, shards.get)
        except Exception as exc:
            out[rule_id] = exc
    return out


def load_state(store: Store, rule_id: str) -> tuple[RuleState | None, StateRef]:
    """One rule's state (None and an empty ref when it has none)."""
    head = store.get_doc(STATE_KIND, rule_id)
    if head is None:
        return None, StateRef()
    return _assemble(head, lambda doc_id: store.get_doc(SHARD_KIND, doc_id))


def save_state(
    store: Store,
    new: RuleState,
    ref: StateRef,
    stored: RuleState | None,
    changed: Changed | None = None,
    now: float = 0.0,
) -> StateRef | None:
    """Write what changed of `new` over `stored` (the state as loaded with `ref`); None when nothing
    needed writing. `changed(stored_shard, new_shard)` decides per shard (default: any difference);
    the head is written whenever a shard is, or the outbox holds or changed notices.

    Raises:
        Conflict: the head's version moved since `ref` was read (nothing of this write remains).
    """
    changed = changed or _differs
    n = shard_count(len(new.groups), ref.n if stored is not None else 0)
    resharded = stored is not None and n != ref.n
    new_parts = _split(new, n)
    old_parts = _split(stored, n) if stored is not None and not resharded else {}
    writes = {
        i: part
        for i, part in new_parts.items()
        if resharded or i not in ref.shards or changed(old_parts.get(i), part)
    }
    dropped = {i for i in ref.shards if i not in new_parts} if not resharded else set(ref.shards)
    stored_ids = [m.get("id") for m in (stored.outbox if stored else [])]
    outbox_moved = bool(new.outbox) or stored_ids != [m.get("id") for m in new.outbox]
    if not writes and not dropped and not outbox_moved and stored is not None:
        return None
    if stored is None and not new.groups and not new.outbox:
        return None
    written = {i: f"{new.rule_id}#{uuid.uuid4().hex[:16]}" for i in writes}
    for i, part in writes.items():
        store.put_doc(
            SHARD_KIND,
            written[i],
            {
                "id": written[i],
                "rule_id": new.rule_id,
                "index": i,
                "groups": {k: g.to_json() for k, g in part.groups.items()},
                "written_at": now,
            },
        )
    shards = {} if resharded else {i: d for i, d in ref.shards.items() if i not in dropped}
    shards.update(written)
    head = {
        "rule_id": new.rule_id,
        "outbox": list(new.outbox),
        "evaluated_at": new.evaluated_at,
        "n": n,
        "shards": {str(i): d for i, d in sorted(shards.items())},
    }
    try:
        saved = store.put_doc(STATE_KIND, new.rule_id, head, expected_version=ref.version)
    except Conflict:
        for doc_id in written.values():
            store.delete_doc(SHARD_KIND, doc_id)
        raise
    for i, doc_id in ref.shards.items():
        if shards.get(i) != doc_id:
            store.delete_doc(SHARD_KIND, doc_id)
    return StateRef(int(saved["_version"]), n, shards)


def delete_state(store: Store, rule_id: str) -> None:
    """Forget a rule's state: the head first (so no reader assembles a partial state), then its shards."""
    _, ref = load_state(store, rule_id)
    store.delete_doc(STATE_KIND, rule_id)
    for doc_id in ref.shards.values():
        store.delete_doc(SHARD_KIND, doc_id)


def collect_orphans(store: Store, now: float) -> int:
    """Delete shard documents no head names and older than `ORPHAN_AGE_SECONDS` (left by a crash
    between a shard write and its head); returns how many."""
    referenced = {
        str(doc_id) for head in store.list_docs(STATE_KIND) for doc_id in (head.get("shards") or {}).values()
    }
    gone = 0
    for doc in store.list_docs(SHARD_KIND):
        if str(doc["id"]) not in referenced and now - float(doc.get("written_at", 0)) > ORPHAN_AGE_SECONDS:
            gone += store.delete_doc(SHARD_KIND, str(doc["id"]))
    return gone


def _assemble(
    head: dict[str, Any], shard: Callable[[str], dict[str, Any] | None]
) -> tuple[RuleState, StateRef]:
    state = RuleState.from_json(head)  # a head from before sharding still carries its groups
    refs = {int(i): str(d) for i, d in (head.get("shards") or {}).items()}
    for doc_id in refs.values():
        doc = shard(doc_id)
        if doc is None:
            raise ValueError(f"alert state {state.rule_id}: shard {doc_id} is missing")
        state.groups.update({k: GroupState.from_json(v) for k, v in (doc.get("groups") or {}).items()})
    return state, StateRef(int(head.get("_version", 0)), int(head.get("n", 1)), refs)


def _split(state: RuleState | None, n: int) -> dict[int, RuleState]:
    parts: dict[int, RuleState] = {}
    for key, group in (state.groups if state else {}).items():
        part = parts.setdefault(shard_of(key, n), RuleState(state.rule_id if state else ""))
        part.groups[key] = group
    return parts


def _differs(stored: RuleState | None, new: RuleState) -> bool:
    return stored is None or stored.to_json()["groups"] != new.to_json()["groups"]
