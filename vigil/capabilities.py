"""Optional `Store` capabilities: what a backend may do itself beyond the `ports.Store` contract
(SqliteStore: summaries computed by SQL or numpy, histograms merged per bucket, bulk back-fills;
DynamoStore: raw samples as numpy arrays, the evaluator's window and host listing in one read per host).
Callers check with `isinstance` (the protocols are runtime-checkable) and take the general path
otherwise, so answers never depend on the store. Must not import adapters, boto3 or sqlite3.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

if TYPE_CHECKING:  # annotations only
    from vigil.adapters.store.arrays import BucketArrays
    from vigil.domain.records import BulkLoad, HostInfo, Point, SeriesBlock
    from vigil.domain.rollups import Rollup
    from vigil.domain.series_batch import HostBatch
    from vigil.ports import Store

Doc = tuple[str, str, dict[str, Any]]  # (kind, id, body) as `Store.put_doc` takes them
_OFFERED: weakref.WeakKeyDictionary[type, dict[type, bool]] = weakref.WeakKeyDictionary()


def offers(store: object, capability: type) -> bool:
    """`isinstance(store, capability)`, remembered per store class: a runtime-checkable Protocol's
    check looks every member up with `hasattr` (15-30 us on Python 3.11, four times per ingest
    request). Our stores' capabilities are their classes' methods, never set per instance."""
    known = _OFFERED.setdefault(type(store), {})
    found = known.get(capability)
    if found is None:
        found = known[capability] = isinstance(store, capability)
    return found


@runtime_checkable
class SummaryStore(Protocol):
    """Optional capability (SqliteStore): count, sum, min and max per (series, step bucket) computed by
    the backend itself (SQL `GROUP BY`), as `Rollup` records of resolution "raw" or the rollup
    resolution read. The series API feeds them to `build_series_from_rollups` for avg/sum/count/min/
    max, so the answer equals the one from points or full rollups without moving every row."""

    def summarise(
        self,
        metric: str,
        resolution: str,
        start: float,
        end: float,
        step: float,
        hosts: Sequence[str] | None = None,
        labels: dict[str, str] | None = None,
        now: float | None = None,
        fleet: bool = False,
    ) -> Iterator[Rollup] | None:
        """`fleet`: one record per step bucket across all matching series.
        None: the backend cannot summarise this (histogram samples); take the general path."""
        ...


@runtime_checkable
class ArraySummaryStore(Protocol):
    """Optional capability (SqliteStore; DynamoStore for raw samples only, returning None for rollup
    resolutions): `SummaryStore.summarise` as whole arrays (`BucketArrays`, one cell per (series,
    step bucket)) instead of a `Rollup` per cell, for avg/sum/count/min/max answered with numpy
    (`arrays.series_from_arrays`): the same numbers, without an object per cell."""

    def summarise_arrays(
        self,
        metric: str,
        resolution: str,
        start: float,
        end: float,
        step: float,
        hosts: Sequence[str] | None = None,
        labels: dict[str, str] | None = None,
        now: float | None = None,
        fleet: bool = False,
    ) -> BucketArrays | None:
        """As `SummaryStore.summarise`; None where that returns None."""
        ...


@runtime_checkable
class BulkStore(Protocol):
    """Optional capability (SqliteStore): plain-value samples written in bulk, series by series, for
    back-fills (`vigil.services.backfill`, which then runs the rollup and fleet jobs over them)."""

    def put_series_bulk(self, blocks: Iterable[SeriesBlock], now: float) -> BulkLoad:
        """Raises:
        Invalid: a block with arrays of different lengths, unordered timestamps or a non-finite value.
        """
        ...


@runtime_checkable
class HistogramPresenceStore(Protocol):
    """Optional capability (SqliteStore): which raw histogram samples of a metric [start, end] holds,
    without reading the histograms: (host, timestamp, whether it counted any observation) per sample,
    or None when plain values are among them. What the step probe needs (`services.step_probe`)."""

    def histogram_sample_times(
        self,
        metric: str,
        start: float,
        end: float,
        hosts: Sequence[str] | None = None,
        labels: dict[str, str] | None = None,
        now: float | None = None,
    ) -> list[tuple[str, float, bool]] | None: ...


@runtime_checkable
class HistogramSummaryStore(Protocol):
    """Optional capability (SqliteStore): histogram samples ("raw") or fine-tier rollups ("5m") merged
    per (series, step bucket) — or per bucket only with `fleet` — by the backend, as `Rollup` records
    with the merged histogram (no `last`). None when plain values are among them."""

    def summarise_histograms(
        self,
        metric: str,
        resolution: str,
        start: float,
        end: float,
        step: float,
        hosts: Sequence[str] | None = None,
        labels: dict[str, str] | None = None,
        now: float | None = None,
        fleet: bool = False,
    ) -> list[Rollup] | None: ...


@runtime_checkable
class DocBatchStore(Protocol):
    """Optional capability (SqliteStore): several documents written in one transaction, each as
    `put_doc` without `expected_version` writes it (its `_version` one more than the stored one)."""

    def put_docs(self, docs: Sequence[Doc]) -> None: ...


def put_docs(store: Store, docs: Sequence[Doc]) -> None:
    """`docs` stored, in one transaction where the store offers `DocBatchStore`, else one `put_doc`
    each. Ingest's late-sample markers go through here: a back-filling batch marks up to one fleet
    minute per sample, and a transaction per marker cost more than storing the batch."""
    if offers(store, DocBatchStore):
        if docs:
            cast("DocBatchStore", store).put_docs(docs)
        return
    for kind, doc_id, doc in docs:
        store.put_doc(kind, doc_id, doc)


@runtime_checkable
class SeriesBatchStore(Protocol):
    """Optional capability (SqliteStore): batches of columns (`series_batch.HostBatch`: per series
    its times and values, no `Point` per sample), several hosts' in one transaction, each stored as
    `put_samples` would store its points alone (its own key: a batch seen before is skipped, the
    others stored); returns, per batch, whether it was stored."""

    def put_series_batches(
        self, batches: Sequence[HostBatch], now: float, marks: Marks | None = None
    ) -> list[bool]: ...


Marks = Callable[[list["HostBatch"]], Sequence[Doc]]  # the documents the stored batches call for


def put_series_batches(
    store: Store, batches: Sequence[HostBatch], now: float, marks: Marks | None = None
) -> list[bool]:
    """`batches` stored, in one transaction where the store offers `SeriesBatchStore`, else as
    `Point`s with one `put_samples` each. A remote-write request carries many hosts: a transaction
    each cost more than their samples. `marks(the batches stored)`: documents (ingest's late-sample
    markers) written as `put_docs` writes them — in the batches' transaction where the store offers
    it, so an answer that says "stored" means marked too and a failure leaves neither; else after."""
    from vigil.domain.series_batch import points_of

    if offers(store, SeriesBatchStore):
        return cast("SeriesBatchStore", store).put_series_batches(batches, now, marks) if batches else []
    stored = [
        store.put_samples(
            b.host, points_of(b.host, b.series), b.batch_id, now, b.timestamped, push_interval=b.push_interval
        )
        for b in batches
    ]
    if marks is not None:
        put_docs(store, marks([b for b, s in zip(batches, stored, strict=True) if s]))
    return stored


@runtime_checkable
class WindowHostsStore(Protocol):
    """Optional capability (DynamoStore): `list(query_many(metrics, start, end, now=now))` for every host
    and `list_hosts()` from one read per host, where the two would cost a request per host each (the
    newest push is on the newest raw chunk). The evaluator uses it when a rule watches reporting cadence
    and its shared window covers every host (`vigil.alerting.windows.read_window`)."""

    def window_and_hosts(
        self, metrics: Sequence[str] | None, start: float, end: float, now: float
    ) -> tuple[list[Point], list[HostInfo]]: ...
