"""Store contract at the item-size extremes (issue 13.2): what one host at the cardinality limit
produces, and documents past DynamoDB's 400 KB item limit, stored and read back whole on both stores;
on DynamoDB (moto refuses items over 400 KB) no item written is over `sizing.MAX_ITEM_BYTES` + keys."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.contract.test_dynamodb_store import Wrapper, item_size, raw_items
from vigil.adapters.store.dynamodb import DynamoStore
from vigil.adapters.store.sizing import MAX_ITEM_BYTES
from vigil.domain.errors import Conflict
from vigil.domain.models import Point
from vigil.domain.rollups import FINE
from vigil.services.rollups import DIRTY_KIND, run_rollups

HOUR = 3600.0
T0 = 1_764_028_800.0  # a UTC midnight
SERIES, LABELS, MINUTES = 1000, 10, 10
ITEM_LIMIT = 350_000  # issue 13's goal for the largest item written (bytes, keys included)


def label_value(series: int, key: int) -> str:
    return hashlib.sha256(f"{series}:{key}".encode()).hexdigest()  # 64 characters, barely compressible


def widest_host_minute(minute: int, host: str = "wide-1") -> list[Point]:
    """One sample of each of 1,000 series x 10 labels of 64 characters (the cardinality limit)."""
    return [
        Point(
            host,
            f"app.metric{i % 10}",
            tuple(sorted((f"label{j}", label_value(i, j)) for j in range(LABELS))),
            T0 + minute * 60 + 5,
            float(i + minute),
        )
        for i in range(SERIES)
    ]


def largest_item(store: Any) -> int:
    """Bytes of the largest item in the store's tables, as DynamoDB bills them (0 for SQLite)."""
    if not isinstance(store, DynamoStore):
        return 0  # SQLite rows have no size limit
    client, largest = store.io.client, 0
    for table in (store.samples_table, store.meta_table):
        for page in client.get_paginator("scan").paginate(TableName=table):
            for it in page["Items"]:  # boto3 hands binary values back decoded: re-encode for item_size
                wire = {k: {"B": base64.b64encode(v["B"]).decode()} if "B" in v else v for k, v in it.items()}
                largest = max(largest, item_size(wire))
    return largest


def test_a_host_at_the_cardinality_limit_is_ingested_rolled_up_and_read_back_whole(store: Any) -> None:
    now = T0 + 2 * HOUR
    for minute in range(MINUTES):
        assert store.put_samples("wide-1", widest_host_minute(minute), f"b{minute}", T0 + minute * 60 + 30)
    report = run_rollups(store, now, retention_seconds=7 * 86400)
    assert report["failed"] == {} and report["hours"] >= 1

    points = list(store.query_points("app.metric3", T0, T0 + HOUR, hosts=["wide-1"], now=now))
    assert len(points) == SERIES // 10 * MINUTES
    assert {len(p.labels) for p in points} == {LABELS}
    for resolution in ("1h", "1d"):
        rollups = list(store.query_rollups(None, resolution, T0, T0 + HOUR, hosts=["wide-1"], now=now))
        assert len(rollups) == SERIES, resolution
        assert {r.count for r in rollups} == {MINUTES}
        by_key = {r.series_key: r for r in rollups}
        first = widest_host_minute(0)[7]
        assert by_key[first.series_key].sum == sum(7.0 + m for m in range(MINUTES))
    fine = list(store.query_rollups(None, FINE, T0, T0 + HOUR, hosts=["wide-1"], now=now))
    assert {r.series_key for r in fine} == {p.series_key for p in widest_host_minute(0)}
    assert largest_item(store) < ITEM_LIMIT


def test_a_rerun_that_packs_fewer_parts_never_mixes_in_the_old_ones(store: Any) -> None:
    now = T0 + 2 * HOUR
    for minute in range(MINUTES):
        store.put_samples("wide-1", widest_host_minute(minute), f"b{minute}", T0 + minute * 60 + 30)
    run_rollups(store, now, retention_seconds=7 * 86400)
    few = [r for r in store.query_rollups(None, "1h", T0, T0, hosts=["wide-1"], now=now)][:5]
    store.put_rollups(few, now)  # the host-hour recomputed smaller: one item replaces the parts
    again = list(store.query_rollups(None, "1h", T0, T0, hosts=["wide-1"], now=now))
    assert sorted(r.series_key for r in again) == sorted(r.series_key for r in few)


def big_doc(size: int) -> dict[str, Any]:
    words = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(size // 64 + 1)]
    return {"name": "big", "words": words}


def test_a_document_past_the_item_limit_round_trips_and_is_replaced_whole(store: Any) -> None:
    doc = big_doc(3 * MAX_ITEM_BYTES)
    stored = store.put_doc("dashboard", "d1", doc)
    assert stored["_version"] == 1
    assert store.get_doc("dashboard", "d1") == {**doc, "_version": 1}
    assert store.list_docs("dashboard") == [{**doc, "_version": 1}]
    bigger = {**doc, "name": "bigger"}
    assert store.put_doc("dashboard", "d1", bigger, expected_version=1)["_version"] == 2
    with pytest.raises(Conflict):
        store.put_doc("dashboard", "d1", doc, expected_version=1)
    assert store.get_doc("dashboard", "d1") == {**bigger, "_version": 2}
    assert store.put_doc("dashboard", "d1", {"name": "small"})["_version"] == 3
    assert store.get_doc("dashboard", "d1") == {"name": "small", "_version": 3}
    assert store.put_doc("dashboard", "d2", doc, expected_version=0)["_version"] == 1
    assert store.delete_doc("dashboard", "d2") is True
    assert store.get_doc("dashboard", "d2") is None
    assert largest_item(store) < ITEM_LIMIT
    if isinstance(store, DynamoStore):  # no part of a replaced or deleted version is left behind
        leftover = [
            it for it in raw_items(store.io.client, store.meta_table) if it["pk"]["S"].startswith("DOCPART#")
        ]
        assert leftover == []


def test_a_host_whose_rollups_cannot_be_written_is_reported_and_stops_no_other_host(
    moto_client: Any, tables: tuple[str, str], make_dynamo_store: Any
) -> None:
    broken = {"on": True}

    def batch_write_item(**params: Any) -> Any:
        puts = [r["PutRequest"]["Item"]["pk"]["S"] for rs in params["RequestItems"].values() for r in rs]
        if broken["on"] and any(pk.endswith("#bad-1") and not pk.startswith("R#") for pk in puts):
            raise ClientError(
                {"Error": {"Code": "ValidationException", "Message": "too large"}}, "BatchWriteItem"
            )
        return moto_client.batch_write_item(**params)

    store = make_dynamo_store(Wrapper(moto_client, batch_write_item=batch_write_item), tables)
    for host in ("bad-1", "good-1"):
        point = Point(host, "cpu", (), T0 + 65, 0.5)
        store.put_samples(host, [point], None, T0 + 70)
    first = run_rollups(store, T0 + HOUR + 60, retention_seconds=7 * 86400)
    assert list(first["failed"]) == ["bad-1"] and "ValidationException" in first["failed"]["bad-1"]
    assert len(list(store.query_rollups("cpu", "1h", T0, T0, hosts=["good-1"], now=T0 + HOUR + 60))) == 1
    assert list(store.query_rollups("cpu", "1h", T0, T0, hosts=["bad-1"], now=T0 + HOUR + 60)) == []
    assert {d["host"] for d in store.list_docs(DIRTY_KIND)} == {"bad-1"}

    broken["on"] = False  # the next runs, hours later, catch up on exactly what bad-1 owes
    later = T0 + 5 * HOUR + 60
    second = run_rollups(store, later, retention_seconds=7 * 86400)
    assert second["failed"] == {}
    assert len(list(store.query_rollups("cpu", "1h", T0, T0, hosts=["bad-1"], now=later))) == 1
    assert store.list_docs(DIRTY_KIND) == []
