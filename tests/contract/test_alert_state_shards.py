"""Store contract for alert state at scale (issues 11.5 and 13.2): the state the evaluator builds for
a rule over 10,000 groups persists on both stores (one document per rule passed DynamoDB's 400 KB
limit at ~900 groups) through `state_shards.save_state`, the function the evaluator saves with; a
change writes only its shard and the head, acknowledging writes one shard, and a lost version race
leaves the winner's state whole. The whole evaluator tick at that size is
`tests/functional/alerting/test_alert_state_scale.py`."""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

import pytest

from tests.contract.test_item_size_bound import ITEM_LIMIT, largest_item
from vigil.alerting.repo import acknowledge, list_alerts
from vigil.alerting.state_shards import SHARD_KIND, STATE_KIND, StateRef, load_state, load_states, save_state
from vigil.domain.alerts import Notification, RuleState, alert_id
from vigil.domain.errors import Conflict
from vigil.domain.evaluator import evaluate, needs_saving
from vigil.domain.models import Point
from vigil.domain.rules import Rule

T0 = 1_764_000_000.0
GROUPS = 10_240
CALM = {"j05000"}


class CountingStore:
    """The real store, counting document writes by kind."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.puts: Counter[str] = Counter()

    def put_doc(self, kind: str, doc_id: str, doc: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        self.puts[kind] += 1
        result: dict[str, Any] = self.inner.put_doc(kind, doc_id, doc, **kwargs)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def queue_depths(ts: float, calm: set[str] = frozenset()) -> list[Point]:  # type: ignore[assignment]
    """Every job's queue is deep (a breach) except the `calm` ones."""
    return [
        Point("worker-1", "queue.depth", (("job", f"j{i:05d}"),), ts, 1.0 if f"j{i:05d}" in calm else 9.0)
        for i in range(GROUPS)
    ]


def pending_state(rule: Rule, groups: int, now: float) -> RuleState:
    """The state the evaluator itself builds for `groups` breaching jobs waiting out `for`."""
    points = [Point("worker-1", "queue.depth", (("job", f"j{i:05d}"),), now - 30, 9.0) for i in range(groups)]
    state, _ = evaluate(rule, points, None, now)
    return state


def test_a_rule_over_10000_groups_persists_and_writes_only_the_shards_that_changed(store: Any) -> None:
    rule = Rule(name="deep queue", metric="queue.depth", agg="max", window=120, op=">", threshold=5)
    rule = rule.model_copy(update={"group_by": ["job"], "for_": 3600.0})
    changed = partial(needs_saving, rule)
    new = pending_state(rule, GROUPS, T0)
    ref = save_state(store, new, StateRef(), None, changed, now=T0)
    assert ref is not None and len(ref.shards) == ref.n >= GROUPS // 64
    loaded = load_states(store)[rule.id]
    assert not isinstance(loaded, Exception)
    state, ref = loaded
    assert state.to_json() == new.to_json() and {g.status for g in state.groups.values()} == {"pending"}
    assert largest_item(store) < ITEM_LIMIT

    counting = CountingStore(store)
    stored = RuleState.from_json(state.to_json())
    steady, _ = evaluate(rule, queue_depths(T0 + 30), state, T0 + 60)
    assert save_state(counting, steady, ref, stored, changed, now=T0 + 60) is None  # steady: no write
    assert counting.puts == Counter()

    calmer, _ = evaluate(rule, queue_depths(T0 + 90, CALM), steady, T0 + 120)
    ref = save_state(counting, calmer, ref, stored, changed, now=T0 + 120)
    assert ref is not None
    assert counting.puts == Counter({SHARD_KIND: 1, STATE_KIND: 1})  # the calm job's shard and the head
    assert len(list_alerts(store)["pending"]) == GROUPS - 1

    counting.puts.clear()
    acknowledge(counting, alert_id(rule.id, "job=j00042"), "ops", T0 + 200)
    assert counting.puts == Counter({SHARD_KIND: 1, STATE_KIND: 1})
    state, ref = load_state(store, rule.id)
    assert state is not None and len(state.groups) == GROUPS - 1
    assert state.groups["job=j00042"].acked_by == "ops"
    assert len(store.list_docs(SHARD_KIND)) == ref.n  # replaced shard documents were deleted


def test_a_state_write_that_loses_the_version_race_leaves_the_winners_state_whole(store: Any) -> None:
    rule = Rule(name="deep queue", metric="queue.depth", agg="max", window=120, op=">", threshold=5)
    rule = rule.model_copy(update={"group_by": ["job"], "for_": 3600.0})
    first = pending_state(rule, 200, T0)
    ref = save_state(store, first, StateRef(), None, now=T0)
    assert ref is not None
    winner, _ = evaluate(rule, queue_depths(T0 + 30, {"j00001"})[:200], first, T0 + 60)
    loser, _ = evaluate(rule, queue_depths(T0 + 30, {"j00002"})[:200], first, T0 + 60)
    save_state(store, winner, ref, first, now=T0 + 60)
    with pytest.raises(Conflict):
        save_state(store, loser, ref, first, now=T0 + 60)
    state, _ = load_state(store, rule.id)
    assert state is not None and state.to_json()["groups"] == winner.to_json()["groups"]
    assert len(store.list_docs(SHARD_KIND)) == len(load_state(store, rule.id)[1].shards)


def test_a_rule_firing_for_10000_groups_at_once_keeps_every_notice_in_its_outbox(store: Any) -> None:
    rule = Rule(name="deep queue", metric="queue.depth", agg="max", window=120, op=">", threshold=5)
    rule = rule.model_copy(update={"group_by": ["job"]})
    state, events = evaluate(rule, queue_depths(T0 - 30), None, T0)
    state.outbox = [e.to_message() for e in events if isinstance(e, Notification)]
    assert len(state.outbox) == GROUPS
    assert save_state(store, state, StateRef(), None, now=T0) is not None
    loaded, _ = load_state(store, rule.id)
    assert loaded is not None and loaded.outbox == state.outbox
    assert largest_item(store) < ITEM_LIMIT


def test_a_state_stored_before_sharding_is_read_whole_and_rewritten_sharded(store: Any) -> None:
    rule = Rule(name="deep queue", metric="queue.depth", agg="max", window=120, op=">", threshold=5)
    rule = rule.model_copy(update={"group_by": ["job"], "for_": 3600.0})
    legacy = pending_state(rule, 100, T0)
    store.put_doc(STATE_KIND, rule.id, legacy.to_json())  # one document holding every group
    loaded = load_states(store)[rule.id]
    assert not isinstance(loaded, Exception) and loaded[0].to_json() == legacy.to_json()
    state, ref = loaded
    state.groups["job=j00003"].acked_by = "ops"
    assert save_state(store, state, ref, legacy, now=T0) is not None
    head = store.get_doc(STATE_KIND, rule.id)
    assert head is not None and "groups" not in head and len(head["shards"]) == 2
    again, _ = load_state(store, rule.id)
    assert again is not None and again.to_json() == state.to_json()
