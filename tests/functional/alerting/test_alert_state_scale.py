"""A whole evaluator tick for a rule over 10,000 groups on a real SQLite store: evaluated, persisted
in shards, and steady ticks write nothing (the store-level contract at that size, on both stores, is
`tests/contract/test_alert_state_shards.py`; on moto the ingest of 10,000 series alone takes minutes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vigil.adapters.store.sqlite import SqliteStore
from vigil.alerting.repo import list_alerts, save_rule
from vigil.alerting.service import run_evaluation
from vigil.alerting.state_shards import load_state
from vigil.domain.models import Point
from vigil.domain.rules import Rule

T0 = 1_764_000_000.0
GROUPS = 10_240


class Recorder:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def publish(self, message: dict[str, Any], attributes: Any) -> None:
        self.messages.append(message)


def test_a_rule_over_10000_groups_is_evaluated_and_persisted_every_tick(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "vigil.sqlite3", 7 * 86400.0)
    rule = Rule(name="deep queue", metric="queue.depth", agg="max", window=120, op=">", threshold=5)
    save_rule(store, rule.model_copy(update={"group_by": ["job"]}))
    points = [Point("worker-1", "queue.depth", (("job", f"j{i:05d}"),), T0 - 30, 9.0) for i in range(GROUPS)]
    store.put_samples("worker-1", points, "deep", T0 - 20)
    recorder = Recorder()
    report = run_evaluation(store, recorder, None, T0)
    assert report.failed == {} and report.evaluated == 1 and len(recorder.messages) == GROUPS
    state, ref = load_state(store, rule.id)
    assert state is not None and len(state.groups) == GROUPS and ref.n >= GROUPS // 64
    assert len(list_alerts(store)["firing"]) == GROUPS
    second = run_evaluation(store, recorder, None, T0 + 60)  # drains the outbox; nothing re-sent
    assert second.failed == {} and len(recorder.messages) == GROUPS
    store.close()
