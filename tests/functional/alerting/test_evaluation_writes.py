"""A steady evaluator tick writes nothing (the per-deployment write cost in docs/data-model.md depends
on it): `put_doc` counted on a real SQLite store through a thin spy, and DynamoDB write requests on moto
through a botocore event hook. What must survive still does: transitions with their notices, the
drained outbox, repeats, a stale `last_seen`, and a restart between steady ticks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from vigil.adapters.store.dynamodb import DynamoStore
from vigil.adapters.store.dynamodb_io import create_tables
from vigil.adapters.store.sqlite import SqliteStore
from vigil.alerting.repo import (
    STATE_KIND,
    ensure_default_rules,
    list_alerts,
    load_rules,
    load_state,
    save_rule,
)
from vigil.alerting.service import run_evaluation
from vigil.config import Config
from vigil.domain.evaluator import LAST_SEEN_REFRESH
from vigil.domain.models import Point
from vigil.ports import Store

T0 = 1_764_000_000.0
HOSTS = ("web-1", "web-2", "db-1")
RETENTION = 7 * 86400.0


class Recorder:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def publish(self, message: dict[str, Any], attributes: Any) -> None:
        self.messages.append(message)


class WriteSpy:
    """Delegates to a real store, counting `put_doc` calls by kind."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.puts: Counter[str] = Counter()
        self.state_puts: list[str] = []

    def put_doc(self, kind: str, doc_id: str, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        self.puts[kind] += 1
        if kind == STATE_KIND:
            self.state_puts.append(doc_id)
        return self.inner.put_doc(kind, doc_id, body, **kwargs)

    def reset(self) -> None:
        self.puts.clear()
        self.state_puts.clear()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def push(store: Any, start: float, stop: float, cpu: dict[str, float]) -> None:
    """Every host reports CPU (its value in `cpu`, else 0.2) and memory every 10 s in [start, stop), in
    one batch a minute received as it ends (an agent's cadence)."""
    for batch_start in range(int(start), int(stop), 60):
        batch_end = min(batch_start + 60.0, stop)
        for host in HOSTS:
            points = []
            for ts in (float(t) for t in range(batch_start, int(batch_end), 10)):
                points.append(Point(host, "system.cpu.utilization", (), ts, cpu.get(host, 0.2)))
                points.append(Point(host, "system.memory.utilization", (), ts, 0.5))
            store.put_samples(host, points, None, batch_end)


@pytest.fixture
def spy(tmp_path: Path) -> Iterator[WriteSpy]:
    store = WriteSpy(SqliteStore(tmp_path / "vigil.sqlite3", RETENTION))
    ensure_default_rules(store, Config())
    yield store
    store.inner.close()


def test_a_steady_quiet_tick_writes_no_document(spy: WriteSpy) -> None:
    push(spy, T0 - 600, T0, {})
    recorder = Recorder()
    run_evaluation(spy, recorder, None, T0)
    assert spy.state_puts == ["default-host-down"]  # its per-host groups are new; quiet rules keep none
    for minute in range(1, 5):
        push(spy, T0 + 60 * (minute - 1), T0 + 60 * minute, {})
        spy.reset()
        report = run_evaluation(spy, recorder, None, T0 + 60 * minute)
        assert report.evaluated == 9 and not report.failed
        assert spy.puts == Counter(), f"minute {minute} wrote {dict(spy.puts)}"
    # `last_seen` (a host's last push) is refreshed once it lags by LAST_SEEN_REFRESH (groups unseen
    # for a day are forgotten by it):
    push(spy, T0 + 240, T0 + LAST_SEEN_REFRESH, {})
    spy.reset()
    run_evaluation(spy, recorder, None, T0 + LAST_SEEN_REFRESH)
    assert spy.state_puts == ["default-host-down"]
    stored, _ = load_state(spy, "default-host-down")
    assert stored is not None
    assert {g.last_seen for g in stored.groups.values()} == {T0 + LAST_SEEN_REFRESH}
    assert recorder.messages == []


def test_a_steady_firing_alert_writes_only_when_it_fires_drains_and_repeats(spy: WriteSpy) -> None:
    push(spy, T0 - 600, T0 + 5 * 3600, {"web-1": 0.95})  # constant: the alert's value does not move
    recorder = Recorder()
    run_evaluation(spy, recorder, None, T0)
    assert "default-cpu" in spy.state_puts and spy.puts["notification_out"] == 1
    spy.reset()
    run_evaluation(spy, recorder, None, T0 + 60)  # the published notice leaves the outbox: one write
    assert spy.state_puts == ["default-cpu"] and spy.puts["notification_out"] == 0

    writes: list[tuple[float, list[str]]] = []
    for now in (T0 + 120.0 + 60.0 * i for i in range(4 * 60)):  # up to the 4 h repeat interval
        spy.reset()
        run_evaluation(spy, recorder, None, now)
        if "default-cpu" in spy.state_puts:
            writes.append((now - T0, spy.state_puts))
    # The firing change leaving the 30-minute flap window, the repeat (4 h after firing), its drain:
    assert writes == [(1800.0, ["default-cpu"]), (14400.0, ["default-cpu"]), (14460.0, ["default-cpu"])]
    assert [m["kind"] for m in recorder.messages] == ["firing", "repeat"]
    [alert] = list_alerts(spy)["firing"]
    assert (alert["rule_id"], alert["value"]) == ("default-cpu", 0.95)


def test_a_restart_between_unsaved_ticks_resolves_the_alert_exactly_once(tmp_path: Path) -> None:
    path = tmp_path / "vigil.sqlite3"
    first = SqliteStore(path, RETENTION)
    ensure_default_rules(first, Config())
    push(first, T0 - 600, T0 + 600, {"web-1": 0.95})
    recorder = Recorder()
    for minute in range(10):
        run_evaluation(first, recorder, None, T0 + 60 * minute)
    first.close()

    second = SqliteStore(path, RETENTION)  # a new process: only what was saved is known
    push(second, T0 + 600, T0 + 1200, {"web-1": 0.1})
    for minute in range(10, 20):
        run_evaluation(second, recorder, None, T0 + 60 * minute)
    second.close()
    cpu = [m for m in recorder.messages if m["rule_id"] == "default-cpu"]
    assert [(m["kind"], m["started_at"]) for m in cpu] == [("firing", T0), ("resolved", T0)]
    assert cpu[1]["resolved_at"] == T0 + 11 * 60  # the first tick whose 5-minute average is below 80 %


def test_keep_firing_for_counts_from_the_last_breach_although_steady_ticks_save_nothing(
    spy: WriteSpy,
) -> None:
    cpu = next(r for r in load_rules(spy) if r.id == "default-cpu")
    # `max` keeps the value at 0.95 up to the last breach, so only `last_breach_at` moves meanwhile:
    save_rule(spy, cpu.model_copy(update={"agg": "max", "keep_firing_for": 600.0}))
    push(spy, T0 - 600, T0 + 1500, {"web-1": 0.95})
    push(spy, T0 + 1500, T0 + 3600, {"web-1": 0.1})
    recorder = Recorder()
    for minute in range(50):
        run_evaluation(spy, recorder, None, T0 + 60 * minute)
    cpu_notes = [m for m in recorder.messages if m["rule_id"] == "default-cpu"]
    assert [m["kind"] for m in cpu_notes] == ["firing", "resolved"]
    # the last 0.95 point (+1490 s) leaves the 5-minute window at +30 min: last breach +29 min, then
    # kept firing 10 more minutes
    assert cpu_notes[1]["resolved_at"] == T0 + 39 * 60


@pytest.fixture
def dynamo(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[DynamoStore, list[str]]]:
    """A DynamoStore on moto and the name of every write request it sends (botocore event hook)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(client, "samples", "meta")
        writes: list[str] = []
        kinds = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}

        def record(model: Any, **_: Any) -> None:
            if model.name in kinds:
                writes.append(model.name)

        client.meta.events.register("before-call.dynamodb", record)
        yield DynamoStore("samples", "meta", RETENTION, client=client), writes


def test_on_dynamodb_a_steady_tick_sends_no_write_request(dynamo: tuple[DynamoStore, list[str]]) -> None:
    store, writes = dynamo
    ensure_default_rules(store, Config())
    push(store, T0 - 600, T0 + 600, {"web-1": 0.95})
    recorder = Recorder()
    run_evaluation(store, recorder, None, T0)
    run_evaluation(store, recorder, None, T0 + 60)  # drains the published notice
    assert [m["kind"] for m in recorder.messages] == ["firing"]
    writes.clear()
    for minute in range(2, 5):
        run_evaluation(store, recorder, None, T0 + 60 * minute)
    assert writes == []
    assert [m["kind"] for m in recorder.messages] == ["firing"]


def test_a_firing_alerts_moving_value_is_saved_at_most_every_refresh_period(spy: WriteSpy) -> None:
    for start in range(int(T0 - 600), int(T0 + 1200), 60):  # 0.95 and 0.97 minute by minute
        push(spy, start, start + 60, {"web-1": 0.95 if (start // 60) % 2 else 0.97})
    recorder = Recorder()
    run_evaluation(spy, recorder, None, T0)
    run_evaluation(spy, recorder, None, T0 + 60)  # drains the firing notice (and saves the value)
    saved: list[float] = []
    for minute in range(2, 17):
        spy.reset()
        run_evaluation(spy, recorder, None, T0 + 60 * minute)
        if "default-cpu" in spy.state_puts:
            saved.append(minute)
    # every LAST_SEEN_REFRESH (5 min) after the group's last save at T0 (the drain at +1 min rewrites
    # only the head: the group's shard did not need it)
    assert saved == [5, 10, 15]
    [alert] = list_alerts(spy)["firing"]
    assert alert["value"] == pytest.approx(0.96, abs=0.0035)
