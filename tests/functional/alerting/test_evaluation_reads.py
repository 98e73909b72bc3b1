"""One evaluator tick reads the samples once for every rule (the DynamoDB cost budget in
docs/data-model.md depends on it): counted on a real SQLite store through a thin spy, and as DynamoDB
Query requests on moto through a botocore event hook. A tick whose read fails evaluates nothing and
the next tick fires exactly once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import boto3
import pytest
from moto import mock_aws

from vigil.adapters.store.dynamodb import DynamoStore
from vigil.adapters.store.dynamodb_io import create_tables
from vigil.adapters.store.sqlite import SqliteStore
from vigil.alerting.repo import ensure_default_rules, load_rules, save_rule
from vigil.alerting.service import run_evaluation
from vigil.config import Config
from vigil.domain.models import Point
from vigil.domain.rules import Rule
from vigil.ports import Store

T0 = 1_764_000_000.0
HOSTS = ("web-1", "web-2", "db-1")


class Recorder:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def publish(self, message: dict[str, Any], attributes: Any) -> None:
        self.messages.append(message)


class SpyStore:
    """Delegates to a real store, counting sample reads; `fail_reads` makes the next reads raise."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.calls: list[str] = []
        self.reads: list[tuple[list[str], float]] = []  # (metrics, seconds) of each query_many
        self.fail_reads = 0

    def query_many(self, metrics: Sequence[str] | None, *args: Any, **kwargs: Any) -> Iterator[Point]:
        self.calls.append("query_many")
        self.reads.append((sorted(metrics or []), float(args[1]) - float(args[0])))
        if self.fail_reads:
            self.fail_reads -= 1
            raise ConnectionError("samples table unreachable")
        return self.inner.query_many(metrics, *args, **kwargs)

    def query_points(self, *args: Any, **kwargs: Any) -> Iterator[Point]:
        self.calls.append("query_points")
        return self.inner.query_points(*args, **kwargs)

    def get_doc(self, kind: str, doc_id: str) -> Any:
        self.calls.append(f"get_doc:{kind}")
        return self.inner.get_doc(kind, doc_id)

    def list_docs(self, kind: str) -> Any:
        self.calls.append(f"list_docs:{kind}")
        return self.inner.list_docs(kind)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def seed(store: Any, now: float) -> list[Rule]:
    """Three hosts with CPU (web-1 hot), memory and a labelled queue-depth gauge; the nine default rules
    plus a label-filtered rule and a host-filtered one with a longer window."""
    for host in HOSTS:
        points = []
        for ts in (float(t) for t in range(int(now - 900), int(now), 10)):
            points.append(Point(host, "system.cpu.utilization", (), ts, 0.95 if host == "web-1" else 0.2))
            points.append(Point(host, "system.memory.utilization", (), ts, 0.5))
            for queue, depth in (("mail", 500.0), ("jobs", 3.0)):
                points.append(Point(host, "queue.depth", (("queue", queue),), ts, depth))
        store.put_samples(host, points, None, now)
    ensure_default_rules(store, Config())
    save_rule(
        store,
        Rule(id="mail-queue", name="Mail queue", metric="queue.depth", filter={"labels": {"queue": "mail"}},
             agg="max", window=600, op=">", threshold=100),
    )  # fmt: skip
    save_rule(
        store,
        Rule(id="db-mem", name="DB memory", metric="system.memory.utilization", filter={"host": "db-1"},
             agg="avg", window=900, op=">", threshold=0.4),
    )  # fmt: skip
    return load_rules(store)


def fired(recorder: Recorder) -> list[tuple[str, str]]:
    return sorted((m["rule_id"], m["group"]["host"]) for m in recorder.messages if m["status"] == "firing")


EXPECTED_FIRING = [
    ("db-mem", "db-1"),
    ("default-cpu", "web-1"),
    ("mail-queue", "db-1"),
    ("mail-queue", "web-1"),
    ("mail-queue", "web-2"),
]


def test_one_tick_reads_samples_once_for_every_rule_and_host(tmp_path: Any) -> None:
    spy = SpyStore(SqliteStore(tmp_path / "vigil.sqlite3", 7 * 86400.0))
    rules = seed(spy, T0)
    assert len(rules) == 11
    recorder = Recorder()
    run_evaluation(spy, recorder, None, T0)  # the first tick creates the states
    spy.calls.clear()
    spy.reads.clear()
    report = run_evaluation(spy, recorder, None, T0 + 10)
    # one read shared by every short rule, and the 12-hour disk forecast's own read of its one metric
    assert spy.calls.count("query_many") == 2 and "query_points" not in spy.calls
    assert sorted(spy.reads, key=lambda r: r[1])[1] == (["system.filesystem.utilization"], 12 * 3600.0)
    # every rule's state comes from one listing, never one lookup per rule
    assert spy.calls.count("list_docs:alert_state") == 1 and "get_doc:alert_state" not in spy.calls
    assert report.evaluated == 11 and not report.failed
    # Every rule still sees exactly its metric, window, labels and hosts:
    assert fired(recorder) == EXPECTED_FIRING
    spy.inner.close()


def test_a_seven_day_rule_reads_only_its_own_metric_over_seven_days(tmp_path: Any) -> None:
    spy = SpyStore(SqliteStore(tmp_path / "vigil.sqlite3", 7 * 86400.0))
    seed(spy, T0)
    save_rule(
        spy,
        Rule(id="weekly-queue", name="Weekly queue", metric="queue.depth", agg="avg", window="7d", op=">",
             threshold=1000),
    )  # fmt: skip
    recorder = Recorder()
    run_evaluation(spy, recorder, None, T0)
    assert len(spy.reads) == 3  # the short rules, the 12-hour disk forecast, the 7-day rule
    short, _, long = sorted(spy.reads, key=lambda r: r[1])
    assert short[1] == 900  # the other rules' longest window (db-mem, 15 min), not 7 days
    assert long == (["queue.depth"], 7 * 86400.0)
    assert fired(recorder) == EXPECTED_FIRING  # the 7-day average (about 250) stays below 1000
    spy.inner.close()


def test_a_failed_read_evaluates_nothing_and_the_next_tick_fires_once(tmp_path: Any) -> None:
    spy = SpyStore(SqliteStore(tmp_path / "vigil.sqlite3", 7 * 86400.0))
    seed(spy, T0)
    recorder = Recorder()
    spy.fail_reads = 1
    failed = run_evaluation(spy, recorder, None, T0)
    assert len(failed.failed) == 11 and "ConnectionError" in failed.failed["default-cpu"]
    assert recorder.messages == [] and failed.evaluated == 0  # no false resolve, no false "absent"
    run_evaluation(spy, recorder, None, T0 + 1)
    run_evaluation(spy, recorder, None, T0 + 2)
    assert fired(recorder) == EXPECTED_FIRING  # each exactly once
    spy.inner.close()


@pytest.fixture
def dynamo(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[DynamoStore, list[str]]]:
    """A DynamoStore on moto and the TableName of every Query it sends (botocore event hook)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(client, "samples", "meta")
        queries: list[str] = []  # "samples" for a window read, "samples:last" for a newest-chunk one
        client.meta.events.register(
            "provide-client-params.dynamodb.Query",
            lambda params, **_: queries.append(params["TableName"] + (":last" if "Limit" in params else "")),
        )
        yield DynamoStore("samples", "meta", 7 * 86400.0, client=client), queries


def test_on_dynamodb_a_tick_sends_one_samples_query_per_host(dynamo: tuple[DynamoStore, list[str]]) -> None:
    store, queries = dynamo
    seed(store, T0)
    recorder = Recorder()
    queries.clear()
    run_evaluation(store, recorder, None, T0)
    # 9 rules x 3 hosts would be 27 reads (and more pages) with a read per rule; one per host here for
    # the short rules, and one per host for the 12-hour disk forecast's window.
    assert queries.count("samples") == 2 * len(HOSTS)
    # "host not reporting" takes each host's newest push from the short rules' read: no Query of its own
    assert queries.count("samples:last") == 0
    assert fired(recorder) == EXPECTED_FIRING


def test_an_aws_minute_tick_sends_one_dynamodb_request_per_host_plus_a_constant(
    dynamo: tuple[DynamoStore, list[str]],
) -> None:
    """Every request of any kind, counted on a steady tick (no state to create) at 3 and then 12 hosts:
    the minute tick reads each host once (the window with its newest push; the hourly forecast is not
    in it), whatever else it reads costs the same at any fleet size."""
    store, _ = dynamo
    sent: list[str] = []
    store.io.client.meta.events.register("before-call.dynamodb", lambda model, **_: sent.append(model.name))

    def steady_tick(now: float) -> int:
        for before in (now - 6, now - 3):  # new groups get their state, then their notices leave the outbox
            run_evaluation(store, recorder, None, before, run="minute")
        sent.clear()
        report = run_evaluation(store, recorder, None, now, run="minute")
        assert report.evaluated == 10 and not report.failed  # every rule but the disk forecast
        return len(sent)

    seed(store, T0)
    recorder = Recorder()
    few = steady_tick(T0 + 10)
    for host in ("web-3", "web-4", "web-5", "web-6", "web-7", "web-8", "web-9", "db-2", "db-3"):
        store.put_samples(host, [Point(host, "system.cpu.utilization", (), T0 - 60, 0.2)], None, T0)
    many = steady_tick(T0 + 30)
    assert many - few <= 9  # at most one request per added host
    assert few <= len(HOSTS) + 6  # and a small constant: rules, silences, states, host listing ...
    assert fired(recorder) == EXPECTED_FIRING
