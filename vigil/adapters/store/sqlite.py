"""SQLite implementation of the `Store` port: local mode and most tests.

The store composes owned parts, each built here with what it uses and seeing another part only
through a typed interface (`sqlite_parts`; the file is `sqlite_db.Database`): the file and its write
transactions (`sqlite_db.SqliteDatabase`), the series-id cache (`sqlite_series.SeriesIds`), the series
catalogue (`sqlite_catalog.SeriesCatalog`), the packed head (`sqlite_head.HeadPacks`), the columnar
blocks (`sqlite_blocks.Blocks`), ingest's writes (`sqlite_ingest.SampleWriter`), bulk loads
(`sqlite_bulk.BulkLoader`), point reads (`sqlite_points.RawPoints`), rollups and summaries
(`sqlite_rollups.Rollups`), the fleet tier (`sqlite_fleet.FleetRecords`) and keys, error groups and
documents (`sqlite_meta.MetaRecords`). This class implements the port by delegation, and owns what
spans the parts: the schema and its migration, purge (one transaction over every part's tables) and
health. Plain samples arrive in the packed head (one row per series per batch; histogram samples and
an older file's rows in the WITHOUT ROWID table `samples`) and are compacted into columnar blocks
once their two hours are an hour old; reads merge them. Hourly and daily rollups are columnar blocks
too (`sqlite_rollup_blocks`).

Must not import boto3 or anything from `vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from vigil.adapters.store import sqlite_batch_keys as batch_keys
from vigil.adapters.store.arrays import BucketArrays
from vigil.adapters.store.sqlite_batch_keys import BATCH_KEYS_SCHEMA
from vigil.adapters.store.sqlite_blocks import BLOCKS_SCHEMA, COMPACT_ROWS, Blocks
from vigil.adapters.store.sqlite_bulk import ROWS_PER_TRANSACTION, BulkLoader
from vigil.adapters.store.sqlite_catalog import SeriesCatalog
from vigil.adapters.store.sqlite_db import SqliteDatabase
from vigil.adapters.store.sqlite_fleet import FLEET_SCHEMA, FleetRecords
from vigil.adapters.store.sqlite_head import HEAD_SCHEMA, Floats, HeadPacks, Ints
from vigil.adapters.store.sqlite_ingest import Marks, SampleWriter
from vigil.adapters.store.sqlite_meta import MetaRecords
from vigil.adapters.store.sqlite_parts import SeriesRow
from vigil.adapters.store.sqlite_points import RawPoints
from vigil.adapters.store.sqlite_rollup_blocks import ROLLUP_BLOCKS_SCHEMA
from vigil.adapters.store.sqlite_rollups import Rollups
from vigil.adapters.store.sqlite_schema import SCHEMA, SCHEMA_VERSION
from vigil.adapters.store.sqlite_series import SeriesIds
from vigil.domain.batches import IDEMPOTENCY_SECONDS
from vigil.domain.errors import Unavailable
from vigil.domain.records import ApiKeyRecord, BulkLoad, ErrorEvent, ErrorGroup, HostInfo, Point, SeriesBlock
from vigil.domain.rollups import Rollup
from vigil.domain.series_batch import HostBatch

__all__ = ["SCHEMA_VERSION", "SqliteStore"]


class SqliteStore:
    """The local `Store`. `retention_seconds` bounds what raw reads return and what purge removes."""

    def __init__(self, path: Path, retention_seconds: float) -> None:
        self.path = Path(path)
        self.retention_seconds = retention_seconds
        self.db = SqliteDatabase(self.path)
        self.series = SeriesIds()
        self.catalog = SeriesCatalog(self.db, self.series)
        self.head = HeadPacks(self.db)
        self.blocks = Blocks(self.db, self.head)
        self.writer = SampleWriter(self.db, self.head, self.series, MetaRecords.write_docs)
        self.bulk = BulkLoader(self.db, self.blocks, self.head, self.series, retention_seconds)
        self.points = RawPoints(self.db, self.catalog, self.blocks, self.head, retention_seconds)
        self.rollups = Rollups(self.db, self.series, self.catalog, self.blocks, retention_seconds)
        self.fleet = FleetRecords(self.db, self.blocks, self.head, retention_seconds)
        self.meta = MetaRecords(self.db)
        # executescript manages its own transaction
        schemas = (SCHEMA, BLOCKS_SCHEMA, HEAD_SCHEMA, FLEET_SCHEMA, ROLLUP_BLOCKS_SCHEMA, BATCH_KEYS_SCHEMA)
        self._conn().executescript("".join(schemas))
        self._migrate()

    def _migrate(self) -> None:
        """Bring a file written by an older Vigil up to `SCHEMA_VERSION` (`PRAGMA user_version`), once.

        Version 1: series keys are `identity.series_key` (escaped; `SeriesCatalog.rekey`).
        Version 2: raw samples in columnar blocks (`sqlite_blocks`, the table made by the schema). An
        older file's rows are the head: reads merge them as ever, and the storage job's next
        `compact` moves them (in the jobs worker, bounded transactions; ≈ 16 s per 2.9 M samples
        here), so a large file does not hold up the server's start.
        Version 3: hourly and daily rollups and the fleet records in columnar blocks
        (`sqlite_rollup_blocks`, `sqlite_fleet`): the JSON rows are moved here, on open, in bounded
        transactions (≈ 17 s per 100 k rollup rows here, on a busy machine).
        Version 4: plain samples arrive as packed head rows (`sqlite_head`, the table made by the
        schema). An older file's `samples` rows stay the head under the packs (a pack's sample wins at
        the same time) until `compact` moves them: nothing is moved on open.
        Version 5: the head's packs are one row per host and batch (`sqlite_head.host_packs`); each of
        version 4's per-series packs becomes a one-series pack with its `id` (so its order), on open,
        in the migration's one transaction (the head holds an hour or three of samples).
        Version 6: `host_pushes.seen`, each host's exact newest sample or push (its series'
        `last_seen` may lag by `SEEN_SLACK_SECONDS`); empty in an older file's rows, where the
        series' `last_seen` are still exact.
        Version 7: batch keys in `batch_keys`, filed by the hour of their newest sample
        (`sqlite_batch_keys`); `batches`' rows move there, in the migration's one transaction."""
        if self._conn().execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
            return
        self.rollups.migrate()
        self.fleet.migrate()
        with self.db.write() as tx:
            version = tx.execute("PRAGMA user_version").fetchone()[0]
            if version >= SCHEMA_VERSION:
                return  # another process migrated while this one waited for the write lock
            if version < 1:
                self.catalog.rekey(tx)
            if version < 5:
                self.head.migrate(tx)
            if version < 6 and "seen" not in {r[1] for r in tx.execute("PRAGMA table_info(host_pushes)")}:
                tx.execute("ALTER TABLE host_pushes ADD COLUMN seen REAL")
            if version < 7:
                batch_keys.migrate(tx)
            tx.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection to the file (migration; tests look at tables through it)."""
        return self.db.conn()

    def _series_rows(
        self, metrics: Sequence[str] | None, hosts: Sequence[str] | None, labels: dict[str, str] | None
    ) -> list[SeriesRow]:
        """`SeriesCatalog.rows` (tests compare raw reads through it)."""
        return self.catalog.rows(metrics, hosts, labels)

    # -- samples: writes (`sqlite_ingest`, `sqlite_bulk`), compaction (`sqlite_blocks`) ----------------
    def put_samples(
        self,
        host: str,
        points: Sequence[Point],
        batch_id: str | None,
        now: float,
        timestamped: bool = True,
        *,
        push_interval: float | None = None,
    ) -> bool:
        return self.writer.put_samples(host, points, batch_id, now, timestamped, push_interval=push_interval)

    def put_series_batches(
        self, batches: Sequence[HostBatch], now: float, marks: Marks | None = None
    ) -> list[bool]:
        """`capabilities.SeriesBatchStore`."""
        return self.writer.put_series_batches(batches, now, marks)

    def put_series_bulk(
        self, blocks: Iterable[SeriesBlock], now: float, *, rows_per_transaction: int = ROWS_PER_TRANSACTION
    ) -> BulkLoad:
        """`capabilities.BulkStore` (`sqlite_bulk.BulkLoader.put_series_bulk`)."""
        return self.bulk.put_series_bulk(blocks, now, rows_per_transaction=rows_per_transaction)

    def compact(self, now: float, rows_per_transaction: int = COMPACT_ROWS) -> int:
        """`sqlite_blocks.Blocks.compact`: the head's samples of blocks an hour old into blocks."""
        return self.blocks.compact(now, rows_per_transaction)

    # -- samples: reads (`sqlite_points`, `sqlite_blocks`) --------------------------------------------
    def raw_columns(
        self, marks: str, ids: Sequence[Any], start: float, end: float
    ) -> tuple[Ints, Floats, Floats] | None:
        """`sqlite_blocks.Blocks.raw_columns` (tests compare raw reads through it)."""
        return self.blocks.raw_columns(marks, ids, start, end)

    def query_points(
        self,
        metric: str,
        start: float,
        end: float,
        hosts: Sequence[str] | None = None,
        labels: dict[str, str] | None = None,
        now: float | None = None,
    ) -> Iterator[Point]:
        return self.points.query_points(metric, start, end, hosts, labels, now)

    def query_many(
        self,
        metrics: Sequence[str] | None,
        start: float,
        end: float,
        hosts: Sequence[str] | None = None,
        now: float | None = None,
    ) -> Iterator[Point]:
        return self.points.query_many(metrics, start, end, hosts, now)

    def latest_points(self, metrics: Sequence[str], since: float) -> list[Point]:
        return self.points.latest_points(metrics, since)

    # -- series (`sqlite_catalog`) ---------------------------------------------------------------------
    def list_hosts(
        self, after: str | None = None, limit: int | None = None, only: Callable[[str], bool] | None = None
    ) -> list[HostInfo]:
        return self.catalog.list_hosts(after, limit, only)

    def list_metrics(self) -> dict[str, list[str]]:
        return self.catalog.list_metrics()

    def series_count(self, host: str) -> int:
        return self.catalog.series_count(host)

    def known_series(self, host: str, wanted: Collection[str] = ()) -> set[str]:
        return self.catalog.known_series(host, wanted)

    # -- rollups and summaries (`sqlite_rollups`) ----------------------------------------------------
    def put_rollups(self, rollups: Sequence[Rollup], now: float) -> None:
        self.rollups.put_rollups(rollups, now)

    def query_rollups(
        self,
        metric: str | None,
        resolution: str,
        start: float,
        end: float,
        hosts: Sequence[str] | None = None,
        labels: dict[str, str] | None = None,
        now: float | None = None,
    ) -> Iterator[Rollup]:
        return self.rollups.query_rollups(metric, resolution, start, end, hosts, labels, now)

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
        """`capabilities.SummaryStore`."""
        return self.rollups.summarise(metric, resolution, start, end, step, hosts, labels, now, fleet)

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
        """`capabilities.ArraySummaryStore`."""
        return self.rollups.summarise_arrays(metric, resolution, start, end, step, hosts, labels, now, fleet)

    def histogram_sample_times(
        self,
        metric: str,
        start: float,
        end: float,
        hosts: Sequence[str] | None = None,
        labels: dict[str, str] | None = None,
        now: float | None = None,
    ) -> list[tuple[str, float, bool]] | None:
        """`capabilities.HistogramPresenceStore`."""
        return self.rollups.histogram_sample_times(metric, start, end, hosts, labels, now)

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
    ) -> list[Rollup] | None:
        """`capabilities.HistogramSummaryStore`."""
        return self.rollups.summarise_histograms(
            metric, resolution, start, end, step, hosts, labels, now, fleet
        )

    # -- the fleet tier and freshness (`sqlite_fleet`) ------------------------------------------------
    def put_fleet(self, rollups: Sequence[Rollup], now: float) -> None:
        self.fleet.put_fleet(rollups, now)

    def query_fleet(
        self,
        metric: str | None,
        resolution: str,
        start: float,
        end: float,
        labels: dict[str, str] | None = None,
        now: float | None = None,
    ) -> Iterator[Rollup]:
        return self.fleet.query_fleet(metric, resolution, start, end, labels, now)

    def record_latest(self, points: Sequence[Point], now: float) -> None:
        self.fleet.record_latest(points, now)

    def latest_by_host(
        self, metric: str, since: float, labels: dict[str, str] | None = None
    ) -> dict[str, float]:
        return self.fleet.latest_by_host(metric, since, labels)

    def last_ingest(self) -> float | None:
        return self.fleet.last_ingest()

    # -- keys, error groups, documents (`sqlite_meta`) -----------------------------------------------
    def put_key(self, record: ApiKeyRecord) -> None:
        self.meta.put_key(record)

    def find_key(self, secret_hash: str) -> ApiKeyRecord | None:
        return self.meta.find_key(secret_hash)

    def list_keys(self) -> list[ApiKeyRecord]:
        return self.meta.list_keys()

    def revoke_key(self, key_id: str) -> ApiKeyRecord:
        return self.meta.revoke_key(key_id)

    def touch_key(self, key_id: str, at: float) -> None:
        self.meta.touch_key(key_id, at)

    def record_errors(self, events: Sequence[ErrorEvent]) -> None:
        self.meta.record_errors(events)

    def list_error_groups(self, since: float, limit: int = 100) -> list[ErrorGroup]:
        return self.meta.list_error_groups(since, limit)

    def put_doc(
        self, kind: str, doc_id: str, doc: dict[str, Any], *, expected_version: int | None = None
    ) -> dict[str, Any]:
        return self.meta.put_doc(kind, doc_id, doc, expected_version=expected_version)

    def put_docs(self, docs: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """`capabilities.DocBatchStore`."""
        self.meta.put_docs(docs)

    def get_doc(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        return self.meta.get_doc(kind, doc_id)

    def list_docs(self, kind: str) -> list[dict[str, Any]]:
        return self.meta.list_docs(kind)

    def delete_doc(self, kind: str, doc_id: str) -> bool:
        return self.meta.delete_doc(kind, doc_id)

    # -- what spans the parts: purge, health -----------------------------------------------------------
    def purge_expired(self, now: float) -> int:
        """Raw samples past the retention, rollups 400 days after their bucket ends, and series rows
        nothing refers to any more (no sample, no rollup, not seen within the raw retention), in one
        transaction; then the fleet tier's expired blocks, and the head's samples of blocks an hour
        old are compacted (`sqlite_blocks.compact`: this hourly job is the one that owns the file's
        layout), after the expired ones are gone."""
        cutoff = now - self.retention_seconds
        with self.db.write() as conn:
            removed = conn.execute("DELETE FROM samples WHERE ts < ?", (cutoff,)).rowcount
            removed += self.head.purge(conn, cutoff)
            (in_blocks,) = conn.execute("SELECT total(n) FROM blocks WHERE last < ?", (cutoff,)).fetchone()
            conn.execute("DELETE FROM blocks WHERE last < ?", (cutoff,))
            removed += int(in_blocks)
            # Batch keys outlive short retentions: a client key is remembered for at least 24 h.
            keys_kept = max(self.retention_seconds, IDEMPOTENCY_SECONDS)
            batch_keys.purge(conn, now - keys_kept)
            self.rollups.purge(conn, now)
            self.catalog.purge(conn, cutoff)
        self.fleet.purge(now)
        self.blocks.compact(now)
        return int(removed)

    def ping(self) -> None:
        """Raises Unavailable when the file does not answer, StorageFull when a write could not land."""
        try:
            self._conn().execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise Unavailable(f"SQLite store unavailable: {exc}") from exc
        self.db.space.check(self.db.probe_write)

    def close(self) -> None:
        self.db.close()
