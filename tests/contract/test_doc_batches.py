"""Several documents at once (`capabilities.put_docs`, and with the batches they mark:
`put_series_batches`' `marks`, how ingest writes its late-sample markers): the documents and versions
left behind are those of `put_doc` one by one, on either store — SQLite writes them in one transaction
(`DocBatchStore`; with the batches, in theirs), DynamoDB one item each — and the local cost meter
counts them as it counts `put_doc`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.contract.conftest import RETENTION
from vigil.adapters.store.sqlite import SqliteStore
from vigil.capabilities import Doc, DocBatchStore, put_docs, put_series_batches
from vigil.config import Config
from vigil.domain.series_batch import HostBatch, SeriesSamples
from vigil.local.metered_store import metered_store
from vigil.local.usage_meter import UsageMeter

HOUR = 1_764_003_600.0
NOW = HOUR + 3 * 86400  # the batches' samples are late: what the markers are for
DOCS = [
    ("fleet_dirty", "1764000000", {"minute": 1764000000.0}),
    ("rollup_dirty", "web-1|1763996400", {"host": "web-1", "hour": 1763996400.0}),
    ("fleet_dirty", "1764000060", {"minute": 1764000060.0}),
]


def test_documents_written_together_are_those_written_one_by_one_versions_included(store: Any) -> None:
    store.put_doc("fleet_dirty", "1764000000", {"minute": 1764000000.0})  # already there: version 2 next
    put_docs(store, [*DOCS, ("fleet_dirty", "1764000060", {"minute": 1764000060.0, "again": True})])
    put_docs(store, [])
    assert store.list_docs("fleet_dirty") == [
        {"minute": 1764000000.0, "_version": 2},
        {"minute": 1764000060.0, "again": True, "_version": 2},
    ]
    assert store.get_doc("rollup_dirty", "web-1|1763996400") == {
        "host": "web-1",
        "hour": 1763996400.0,
        "_version": 1,
    }


def test_a_batch_of_more_documents_than_one_read_holds_keeps_every_version(store: Any) -> None:
    """The versions stored before are read in parts (SQLite: 200 ids a read): each of 450 documents,
    a third of them stored before, gets the version after its own."""
    minutes = [str(1764000000 + 60 * i) for i in range(450)]
    for minute in minutes[::3]:
        store.put_doc("fleet_dirty", minute, {"minute": float(minute)})
    put_docs(store, [("fleet_dirty", m, {"minute": float(m)}) for m in minutes])
    versions = {str(int(d["minute"])): d["_version"] for d in store.list_docs("fleet_dirty")}
    assert versions == {m: 2 if i % 3 == 0 else 1 for i, m in enumerate(minutes)}


def test_the_local_store_writes_a_batch_of_documents_as_one_and_its_meter_counts_each(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path / "data")
    one_by_one, together = UsageMeter(), UsageMeter()
    single, batched = metered_store(config, one_by_one), metered_store(config, together)
    assert isinstance(batched, DocBatchStore)
    for kind, doc_id, doc in DOCS:
        single.put_doc(kind, doc_id, doc)
    batched.put_docs(DOCS)
    assert together.take(0.0).wru == one_by_one.take(0.0).wru == len(DOCS)
    assert batched.get_doc("fleet_dirty", "1764000060") == {"minute": 1764000060.0, "_version": 2}


def test_markers_written_with_batches_are_the_stored_ones_versioned_as_put_docs_would(store: Any) -> None:
    """`put_series_batches(..., marks)`: `marks` is asked about the batches stored (a replayed one is
    not among them) and its documents are stored versioned as `put_docs` stores them."""
    asked: list[list[str]] = []

    def marks(stored: list[HostBatch]) -> list[Doc]:
        asked.append([b.host for b in stored])
        return [("rollup_dirty", f"{b.host}|{int(HOUR)}", {"host": b.host, "hour": HOUR}) for b in stored]

    web = HostBatch("web-1", [SeriesSamples("cpu", (), [HOUR + 60], [1.0])])
    db = HostBatch("db-1", [SeriesSamples("cpu", (), [HOUR + 60], [2.0])])
    assert put_series_batches(store, [web], NOW, marks) == [True]
    assert put_series_batches(store, [web, db], NOW, marks) == [False, True]
    assert asked == [["web-1"], ["db-1"]]
    assert store.list_docs("rollup_dirty") == [
        {"host": "db-1", "hour": HOUR, "_version": 1},
        {"host": "web-1", "hour": HOUR, "_version": 1},
    ]


def test_on_sqlite_a_batch_and_its_markers_commit_together_or_not_at_all(tmp_path: Path) -> None:
    """A 2xx means the samples and their late-sample markers are stored: on SQLite both are one
    transaction, so markers that cannot be made leave the samples unstored too (a retry stores both;
    in two transactions a failure between them left stored samples that a retry, a duplicate, never
    marked)."""
    store = SqliteStore(tmp_path / "vigil.db", RETENTION)
    web = HostBatch("web-1", [SeriesSamples("cpu", (), [HOUR + 60], [1.0])])

    def broken(stored: list[HostBatch]) -> list[Doc]:
        raise OSError("disk went away")

    with pytest.raises(OSError):
        put_series_batches(store, [web], NOW, broken)
    assert list(store.query_many(None, 0, NOW, now=NOW)) == []
    assert put_series_batches(store, [web], NOW, lambda stored: [("k", "1", {"n": len(stored)})]) == [True]
    assert [p.value for p in store.query_many(None, 0, NOW, now=NOW)] == [1.0]
    assert store.get_doc("k", "1") == {"n": 1, "_version": 1}


def test_the_meter_counts_a_batch_of_publishes_and_deliveries_as_each_document_alone_would(
    tmp_path: Path,
) -> None:
    config = Config(data_dir=tmp_path / "data")
    one_by_one, together = UsageMeter(), UsageMeter()
    single, batched = metered_store(config, one_by_one), metered_store(config, together)
    docs = [
        ("notification_out", "n1", {"channel": "c", "text": "x" * 1500}),
        ("delivery", "d1", {"channel": "c", "ok": True}),
        ("delivery", "d2", {"channel": "c", "ok": False}),
        ("fleet_dirty", "1764000060", {"minute": 1764000060.0}),
    ]
    for kind, doc_id, doc in docs:
        single.put_doc(kind, doc_id, doc)
    batched.put_docs(docs)
    alone, at_once = one_by_one.take(0.0), together.take(0.0)
    assert (at_once.wru, at_once.sns_publishes, at_once.sns_deliveries) == (5.0, 1.0, 2.0)
    assert (alone.wru, alone.sns_publishes, alone.sns_deliveries) == (5.0, 1.0, 2.0)


def test_the_meter_counts_markers_written_with_batches_as_put_docs_of_them(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path / "data")
    apart, together = UsageMeter(), UsageMeter()
    separately, with_batches = metered_store(config, apart), metered_store(config, together)
    batch = HostBatch("web-1", [SeriesSamples("cpu", (), [HOUR + 60], [1.0])])
    put_series_batches(separately, [batch], NOW)
    separately.put_docs(DOCS)
    put_series_batches(with_batches, [HostBatch("web-2", batch.series)], NOW, lambda stored: DOCS)
    assert together.take(0.0).wru == apart.take(0.0).wru


def test_on_sqlite_a_flat_document_is_stored_as_compact_json_and_any_other_as_before(tmp_path: Path) -> None:
    """A flat document's text is orjson's (no spaces: ~4x quicker to make than `json.dumps`, and a
    back-filled batch writes ~100 markers); one orjson would write otherwise (NaN, nesting, an
    integer past 64 bits, a lone surrogate) keeps `json.dumps`' text; every one reads back equal."""
    import json
    import math
    import sqlite3

    store = SqliteStore(tmp_path / "vigil.db", RETENTION)
    docs = [
        ("fleet_dirty", "1", {"minute": 1764000000.0}),
        ("k", "flat", {"host": "wéb-1", "n": 2**63 - 1, "ok": True, "none": None, "x": 1e16}),
        ("k", "nan", {"v": math.nan}),
        ("k", "nested", {"a": {"b": [1, 2]}}),
        ("k", "big", {"n": 2**70}),
        ("k", "surrogate", {"s": "\ud800"}),
    ]
    put_docs(store, docs[:3])
    for kind, doc_id, doc in docs[3:]:
        store.put_doc(kind, doc_id, doc)
    with sqlite3.connect(tmp_path / "vigil.db") as conn:
        texts = dict(conn.execute("SELECT id, body FROM docs"))
    assert texts["1"] == '{"minute":1764000000.0,"_version":1}'
    assert (
        texts["flat"]
        == '{"host":"wéb-1","n":9223372036854775807,"ok":true,"none":null,"x":1e+16,"_version":1}'
    )
    for _kind, doc_id, doc in docs[2:]:
        assert texts[doc_id] == json.dumps({**doc, "_version": 1})
    for kind, doc_id, doc in docs:
        got = store.get_doc(kind, doc_id)
        assert got is not None and got.pop("_version") == 1
        assert repr(got) == repr(doc)  # NaN included
