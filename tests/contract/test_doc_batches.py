"""Several documents at once (`capabilities.put_docs`, how ingest writes its late-sample markers):
the documents and versions left behind are those of `put_doc` one by one, on either store — SQLite
writes them in one transaction (`DocBatchStore`), DynamoDB one item each — and the local cost meter
counts them as it counts `put_doc`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vigil.capabilities import DocBatchStore, put_docs
from vigil.config import Config
from vigil.local.metered_store import metered_store
from vigil.local.usage_meter import UsageMeter

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
