"""DynamoStore behaviour the SQLite store has no counterpart for: item counts, the 25-item batch limit,
UnprocessedItems and throttling, the one-write-per-agent-minute cost target, lazy boto3."""

from __future__ import annotations

import base64
import json
import random
import subprocess
import sys
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from vigil.domain.errors import Unavailable
from vigil.domain.models import ApiKeyRecord, Point

T0 = 1_764_190_020.0  # a minute boundary + 0 s
NOW = T0 + 600
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def pt(metric: str, value: float, ts: float, **labels: str) -> Point:
    return Point("web-1", metric, tuple(sorted(labels.items())), ts, value)


class CallLog:
    """Every DynamoDB request as sent on the wire, via botocore's `before-call` event."""

    def __init__(self, client: Any) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        client.meta.events.register("before-call.dynamodb", self._record)

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.calls.append((model.name, json.loads(params["body"] or b"{}")))

    def writes(self) -> list[tuple[str, dict[str, Any]]]:
        return [(name, body) for name, body in self.calls if name in WRITES]


@pytest.fixture
def log(moto_client: Any) -> Any:
    calls = CallLog(moto_client)
    yield calls
    moto_client.meta.events.unregister("before-call.dynamodb", calls._record)


@pytest.fixture
def store(moto_client: Any, tables: tuple[str, str], make_dynamo_store: Any) -> Any:
    return make_dynamo_store(moto_client, tables)


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's billed size of a wire-format item: names + values (numbers ~1 byte per 2 digits)."""
    size = 0
    for name, attr in item.items():
        size += len(name.encode())
        ((kind, value),) = attr.items()
        if kind == "S":
            size += len(value.encode())
        elif kind == "B":
            size += len(base64.b64decode(value))
        elif kind == "N":
            digits = Decimal(value).normalize().as_tuple().digits
            size += (len(digits) + 1) // 2 + 1
        else:
            size += 1
    return size


def raw_items(client: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.scan(TableName=table)["Items"]
    return items


class Wrapper:
    """The real moto client with some operations replaced: moto never answers with UnprocessedItems
    or throttling, so these faults have to be injected around it."""

    def __init__(self, real: Any, **overrides: Any) -> None:
        self.real = real
        self.__dict__.update(overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def throttled(operation: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, operation
    )


def test_a_sixty_second_batch_across_a_minute_boundary_writes_one_item(
    store: Any, moto_client: Any, tables: tuple[str, str]
) -> None:
    points = [pt(f"m{k}", float(i), T0 + 35 + i * 10) for i in range(6) for k in range(20)]  # :35 → :25
    assert store.put_samples("web-1", points, None, NOW) is True
    items = raw_items(moto_client, tables[0])
    assert [i["sk"]["S"][:10] for i in items] == [f"{int(T0 // 60):010d}"]


def test_a_batch_spread_over_six_minutes_writes_one_item_per_two_minute_window(
    store: Any, moto_client: Any, tables: tuple[str, str]
) -> None:
    points = [pt("m", float(i), T0 + i * 6) for i in range(60)]  # T0 .. T0 + 354 s
    assert store.put_samples("web-1", points, None, NOW) is True
    items = raw_items(moto_client, tables[0])
    assert sorted(i["sk"]["S"][:10] for i in items) == [f"{int(T0 // 60) + k:010d}" for k in (0, 2, 4)]
    assert max(int(i["expires_at"]["N"]) for i in items) == T0 + 354 + store.retention_seconds
    # T0 + 114 lives in the item keyed by T0's minute: the reader must widen its lower bound
    assert [p.ts for p in store.query_points("m", T0 + 113, T0 + 115, now=NOW)] == [T0 + 114]


def test_batch_write_item_never_carries_more_than_25_items(store: Any, log: CallLog) -> None:
    points = [pt("m", float(i), T0 + i * 300.0) for i in range(90)]  # 90 windows → 90 chunk items
    assert store.put_samples("web-1", points, "big", T0 + 90 * 300) is True
    batches = [
        len(body["RequestItems"][t])
        for name, body in log.calls
        if name == "BatchWriteItem"
        for t in body["RequestItems"]
    ]
    assert batches == [25, 25, 25, 14]  # 89 + the marker, written last with a condition
    assert [name for name, _ in log.writes()].count("PutItem") >= 1
    assert len(list(store.query_points("m", T0, T0 + 100 * 300, now=T0 + 90 * 300))) == 90


def test_replay_of_a_multi_chunk_batch_writes_nothing(
    store: Any, log: CallLog, moto_client: Any, tables: tuple[str, str]
) -> None:
    points = [pt("m", float(i), T0 + i * 60.0) for i in range(30)]
    assert store.put_samples("web-1", points, "again", NOW) is True
    before = raw_items(moto_client, tables[0])
    log.calls.clear()
    assert store.put_samples("web-1", points, "again", NOW + 60) is False
    # Only the claim's conditional put is sent, and refused: no chunk is rewritten.
    assert [(name, body["Item"]["pk"]["S"]) for name, body in log.writes()] == [("PutItem", "B#web-1")]
    assert raw_items(moto_client, tables[0]) == before


def test_replay_of_a_multi_chunk_batch_without_a_key_writes_nothing(store: Any, log: CallLog) -> None:
    points = [pt("m", float(i), T0 + i * 60.0) for i in range(30)]
    assert store.put_samples("web-1", points, None, NOW) is True
    log.calls.clear()
    assert store.put_samples("web-1", points, None, NOW + 60) is False
    assert log.writes() == []


def test_unprocessed_items_are_retried_until_written(
    moto_client: Any, tables: tuple[str, str], make_dynamo_store: Any
) -> None:
    sent: list[int] = []

    def flaky_batch_write(RequestItems: dict[str, Any]) -> dict[str, Any]:
        ((table, requests),) = RequestItems.items()
        sent.append(len(requests))
        keep = requests[: len(requests) // 2] if len(sent) <= 2 else requests
        moto_client.batch_write_item(RequestItems={table: keep})
        rest = requests[len(keep) :]
        return {"UnprocessedItems": {table: rest} if rest else {}}

    store = make_dynamo_store(Wrapper(moto_client, batch_write_item=flaky_batch_write), tables)
    points = [pt("m", float(i), T0 + i * 300.0) for i in range(30)]  # 29 items by batch write
    assert store.put_samples("web-1", points, None, T0 + 9000) is True
    assert sent[:3] == [25, 13, 7]  # half of 25, then half of the remaining 13 refused
    assert len(list(store.query_points("m", T0, T0 + 9000, now=T0 + 9000))) == 30


def test_items_left_unprocessed_after_bounded_backoff_raise_unavailable(
    moto_client: Any, tables: tuple[str, str], make_dynamo_store: Any
) -> None:
    def refuse(RequestItems: dict[str, Any]) -> dict[str, Any]:
        return {"UnprocessedItems": RequestItems}

    store = make_dynamo_store(Wrapper(moto_client, batch_write_item=refuse), tables)
    delays: list[float] = []
    store.io.sleep = delays.append
    store.io.backoff_base, store.io.backoff_cap = 0.05, 1.0
    with pytest.raises(Unavailable):
        store.put_samples("web-1", [pt("m", 1.0, T0), pt("m", 1.0, T0 + 300)], None, NOW)
    assert len(delays) == store.io.max_unprocessed_attempts
    assert all(0 <= d <= min(1.0, 0.05 * 2**k) for k, d in enumerate(delays, start=1))
    assert raw_items(moto_client, tables[0]) == []  # the marker is never written: a retry starts clean


def test_throttling_that_outlasts_botocore_retries_is_unavailable(
    moto_client: Any, tables: tuple[str, str], make_dynamo_store: Any
) -> None:
    def throttle(**_: Any) -> Any:
        raise throttled("any")

    for operation, call in [
        ("put_item", lambda s: s.put_samples("web-1", [pt("m", 1.0, T0)], None, NOW)),
        ("query", lambda s: list(s.query_points("m", T0, T0 + 60, hosts=["web-1"], now=NOW))),
        ("transact_write_items", lambda s: s.put_key(ApiKeyRecord("k", "n", "ingest", "h", T0))),
        ("update_item", lambda s: s.put_doc("rule", "r", {})),
        ("get_item", lambda s: s.ping()),
    ]:
        store = make_dynamo_store(Wrapper(moto_client, **{operation: throttle}), tables)
        with pytest.raises(Unavailable):
            call(store)


def test_a_crash_before_the_marker_is_completed_by_the_retry(
    moto_client: Any, tables: tuple[str, str], make_dynamo_store: Any
) -> None:
    crashes = [True]

    def crash_once(**kw: Any) -> Any:
        if crashes and kw["Item"]["pk"]["S"] == "R#web-1":  # the marker: the batch's last write
            crashes.pop()
            raise throttled("PutItem")
        return moto_client.put_item(**kw)

    store = make_dynamo_store(Wrapper(moto_client, put_item=crash_once), tables)
    points = [pt("m", float(i), T0 + i * 60.0) for i in range(10)]  # two windows
    with pytest.raises(Unavailable):
        store.put_samples("web-1", points, "b", NOW)
    with pytest.raises(Unavailable):  # the first attempt might still be running: retry later
        store.put_samples("web-1", points, "b", NOW + 5)
    assert store.put_samples("web-1", points, "b", NOW + 60) is True
    assert store.put_samples("web-1", points, "b", NOW + 61) is False
    assert len(list(store.query_points("m", T0, T0 + 3600, now=NOW))) == 10


def test_a_retry_stamped_later_takes_over_a_dead_attempt_and_deletes_its_chunks(
    moto_client: Any, tables: tuple[str, str], make_dynamo_store: Any
) -> None:
    """Samples without `ts` are stamped with each attempt's receipt time, so the retry's chunks land
    on other keys: the dead attempt's chunks must go, or its samples would be counted twice."""
    crashes = [True]

    def crash_once(**kw: Any) -> Any:
        if crashes and kw["Item"]["pk"]["S"] == "R#web-1":
            crashes.pop()
            raise throttled("PutItem")
        return moto_client.put_item(**kw)

    store = make_dynamo_store(Wrapper(moto_client, put_item=crash_once), tables)

    def received_at(now: float) -> list[Point]:
        return [pt("m", float(i), now + i * 100.0) for i in range(3)]  # two windows: a chunk + the marker

    with pytest.raises(Unavailable):
        store.put_samples("web-1", received_at(NOW), "b", NOW, timestamped=False)
    later = NOW + 3600
    assert store.put_samples("web-1", received_at(later), "b", later, timestamped=False) is True
    stored = list(store.query_points("m", NOW - 600, later + 600, now=later))
    assert sorted(p.ts for p in stored) == [later, later + 100, later + 200]


def agent_minute(minute: int) -> list[Point]:
    """20 metrics x 6 samples at 10 s from second 35 (straddling a minute, as agent batches do)."""
    names = [
        "system.cpu.utilization",
        "system.memory.usage",
        "system.memory.utilization",
        "system.disk.io",
        "system.network.io",
        "system.network.connections",
        "system.cpu.load_average.1m",
        "system.filesystem.utilization",
        "system.paging.usage",
        "process.cpu.utilization",
    ]
    series = [(name, ()) for name in names] + [(name, (("direction", "read"),)) for name in names]
    start = T0 + minute * 60
    rnd = random.Random(minute)
    return [
        Point("web-1", m, labels, start + 35.25 + 10 * i, round(rnd.uniform(0, 100), 2))
        for i in range(6)
        for m, labels in series
    ]


def test_one_agent_minute_costs_one_chunk_write_of_at_most_1kb_and_no_batch_claim(
    store: Any, log: CallLog
) -> None:
    # `vigil agent` declares its push interval (no host learning writes) and sends no batch_id: every
    # sample has its ts, so the chunk's key (minute + content hash) is the batch's identity
    assert store.put_samples("web-1", agent_minute(0), None, T0 + 60, push_interval=60.0) is True
    log.calls.clear()
    assert store.put_samples("web-1", agent_minute(1), None, T0 + 120, push_interval=60.0) is True
    writes = log.writes()
    assert [(name, body["Item"]["pk"]["S"]) for name, body in writes] == [("PutItem", "R#web-1")]
    assert writes[0][1]["ConditionExpression"] == "attribute_not_exists(pk)"
    assert item_size(writes[0][1]["Item"]) <= 1024
    assert [name for name, _ in log.calls] == ["PutItem"]  # and no read
    log.calls.clear()
    assert store.put_samples("web-1", agent_minute(1), None, T0 + 3600, push_interval=60.0) is False
    assert [name for name, _ in log.calls] == ["PutItem"]  # the retry: one refused conditional put
    assert len(list(store.query_points("system.disk.io", T0, T0 + 180, now=T0 + 180))) == 24


def test_a_batch_with_a_client_key_costs_its_claim_and_one_chunk_write(store: Any, log: CallLog) -> None:
    assert store.put_samples("web-1", agent_minute(0), "m0", T0 + 60, push_interval=60.0) is True
    log.calls.clear()
    assert store.put_samples("web-1", agent_minute(1), "m1", T0 + 120, push_interval=60.0) is True
    writes = log.writes()
    assert [(name, body["Item"]["pk"]["S"]) for name, body in writes] == [
        ("PutItem", "B#web-1"),  # the claim: the key is remembered 24 h whatever the timestamps
        ("PutItem", "R#web-1"),  # the chunk
    ]
    assert all(item_size(body["Item"]) <= 1024 for _, body in writes)


def test_a_client_that_declares_nothing_costs_host_writes_only_until_its_cadence_is_learned(
    store: Any, log: CallLog
) -> None:
    # Without a batch_id (timestamped content is its own identity) a push is one chunk write.
    for minute in range(4):  # four pushes: three gaps establish the cadence
        store.put_samples("web-1", agent_minute(minute), None, T0 + 60 * (minute + 1))
    log.calls.clear()
    store.put_samples("web-1", agent_minute(4), None, T0 + 300)
    assert [name for name, body in log.writes() if not is_fresh(body)] == ["PutItem"]
    (host,) = store.list_hosts()
    assert host.cadence.interval == 60.0


def is_fresh(body: dict[str, Any]) -> bool:
    """The freshness item's update (at most every 2 minutes per instance, not per batch)."""
    return bool(body.get("Key", {}).get("pk", {}).get("S") == "FRESH")


def test_the_freshness_item_costs_one_write_per_two_minutes_per_instance_not_per_batch(
    store: Any, log: CallLog
) -> None:
    for minute in range(3):  # five hosts' batches a minute: one FRESH update in minutes 0 and 2
        for h in range(5):
            store.put_samples(f"web-{h}", agent_minute(minute), f"m{minute}", T0 + 60 * (minute + 1) + h)
    fresh = [name for name, body in log.writes() if is_fresh(body)]
    assert fresh == ["UpdateItem", "UpdateItem"]
    assert store.last_ingest() == max(p.ts for p in agent_minute(2))  # minute 2's first batch


def test_series_and_host_items_are_written_once_per_instance(store: Any, log: CallLog) -> None:
    store.put_samples("web-1", agent_minute(0), "m0", T0 + 60)
    first = [name for name, _ in log.writes()]
    assert first.count("PutItem") == 20 + 2  # 20 series items + the batch claim + the chunk
    assert first.count("UpdateItem") == 10 + 1 + 1  # 10 metric catalogue items, the host item, FRESH
    log.calls.clear()
    store.put_samples("web-1", agent_minute(61), "m61", T0 + 3720)  # > 1 h later: host item refreshed
    updates = [body["Key"]["pk"]["S"] for name, body in log.writes() if name == "UpdateItem"]
    assert sorted(name for name, _ in log.writes()) == ["PutItem", "PutItem", "UpdateItem", "UpdateItem"]
    assert sorted(updates) == ["FRESH", "HOST"]  # the host item, and the freshness item (2 min on)


def series_reads(log: CallLog) -> int:
    return sum(
        b["ExpressionAttributeValues"][":pk"]["S"] == "SERIES#web-1" for n, b in log.calls if n == "Query"
    )


def test_a_steady_hosts_batch_reads_no_series_items_however_old_the_instances_cache(
    store: Any, log: CallLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vigil.adapters.store import dynamodb_series

    store.put_samples("web-1", agent_minute(0), "m0", T0 + 60)
    monkeypatch.setattr(dynamodb_series, "SERIES_CACHE_SECONDS", 0.0)  # every cached answer is old now
    log.calls.clear()
    assert len(store.known_series("web-1", {p.series_key for p in agent_minute(1)})) == 20
    store.put_samples("web-1", agent_minute(1), "m1", T0 + 120)
    assert series_reads(log) == 0
    new = [Point("web-1", "disk", (), T0 + 150, 1.0)]  # a series this instance never saw: read again
    assert store.known_series("web-1", {p.series_key for p in new}) >= {p.series_key for p in agent_minute(1)}
    assert series_reads(log) == 1


def test_the_client_is_built_lazily_with_adaptive_retries(moto_client: Any, tables: tuple[str, str]) -> None:
    from vigil.adapters.store.dynamodb import DynamoStore

    store = DynamoStore(*tables, 86400.0)
    assert store.io._client is None
    store.ping()
    assert store.io._client is not None
    # botocore stores `max_attempts=10` (retries) as 11 attempts in total
    assert store.io.client.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 11}


def test_importing_the_store_does_not_import_boto3() -> None:
    code = (
        "import sys, vigil.adapters.store.dynamodb; print('boto3' in sys.modules, 'botocore' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_ping_of_a_missing_table_is_unavailable(moto_client: Any, make_dynamo_store: Any) -> None:
    store = make_dynamo_store(moto_client, ("no-such-samples", "no-such-meta"))
    with pytest.raises(Unavailable):
        store.ping()


def test_expired_chunks_still_present_are_skipped_without_a_now(store: Any) -> None:
    # moto never runs TTL and AWS lags up to two days: the read filter defaults to the wall clock.
    store.put_samples("web-1", [pt("m", 1.0, T0 - 30 * 86400)], None, T0)
    assert list(store.query_points("m", 0, 4e9)) == []
