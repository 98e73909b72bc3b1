"""SQLite implementation of the `Store` port: local mode and most tests.

The file, its connections and write transactions are `sqlite_db.SqliteDatabase` (owned here and
handed to the parts that need it). Plain samples arrive in the packed head (`sqlite_head.HeadPacks`:
one row per series per batch; histogram samples and an older file's rows in the WITHOUT ROWID table
`samples`) and are compacted into columnar blocks (`sqlite_blocks`) once their two hours are an hour
old; reads merge them. Hourly and daily rollups are columnar blocks too (`sqlite_rollup_blocks`).

Must not import boto3 or anything from `vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vigil.adapters.store.sqlite_blocks import BLOCKS_SCHEMA, COMPACT_ROWS, Blocks, Floats, Ints
from vigil.adapters.store.sqlite_bulk import ROWS_PER_TRANSACTION, BulkLoader
from vigil.adapters.store.sqlite_db import SqliteDatabase, WriteTransaction
from vigil.adapters.store.sqlite_fleet import FLEET_SCHEMA, FleetTables
from vigil.adapters.store.sqlite_head import HEAD_SCHEMA, HeadPacks
from vigil.adapters.store.sqlite_ingest import SampleWriter
from vigil.adapters.store.sqlite_meta import MetaTables
from vigil.adapters.store.sqlite_rollup_blocks import BLOCK_SECONDS, ROLLUP_BLOCKS_SCHEMA, RollupBlocks
from vigil.adapters.store.sqlite_rollups import RollupTables
from vigil.adapters.store.sqlite_series import SeriesIds
from vigil.domain.batches import IDEMPOTENCY_SECONDS
from vigil.domain.cadence import Cadence
from vigil.domain.errors import Unavailable
from vigil.domain.identity import series_key
from vigil.domain.records import BulkLoad, Histogram, HostInfo, Point, SeriesBlock
from vigil.domain.rollups import FINE, RESOLUTION_SECONDS, ROLLUP_RETENTION_SECONDS
from vigil.domain.series_batch import HostBatch

SCHEMA_VERSION = 4  # PRAGMA user_version; `SqliteStore._migrate` upgrades older files on open
_SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
  id INTEGER PRIMARY KEY, host TEXT NOT NULL, metric TEXT NOT NULL, labels TEXT NOT NULL,
  skey TEXT NOT NULL UNIQUE, first_seen REAL NOT NULL, last_seen REAL NOT NULL);
CREATE INDEX IF NOT EXISTS series_metric ON series(metric, host);
CREATE INDEX IF NOT EXISTS series_host ON series(host);
CREATE TABLE IF NOT EXISTS samples (
  series_id INTEGER NOT NULL, ts REAL NOT NULL, value REAL, hist TEXT,
  PRIMARY KEY (series_id, ts)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollups (
  series_id INTEGER NOT NULL, res TEXT NOT NULL, start REAL NOT NULL, count INTEGER NOT NULL,
  sum REAL NOT NULL, min REAL, max REAL, hist INTEGER NOT NULL, body BLOB NOT NULL,
  PRIMARY KEY (series_id, res, start)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches (
  host TEXT NOT NULL, bkey TEXT NOT NULL, received_at REAL NOT NULL, PRIMARY KEY (host, bkey));
CREATE TABLE IF NOT EXISTS host_pushes (
  host TEXT PRIMARY KEY, last_push REAL NOT NULL, gaps TEXT NOT NULL, declared REAL);
CREATE TABLE IF NOT EXISTS keys (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE,
  created_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, last_used_at REAL);
CREATE TABLE IF NOT EXISTS error_groups (
  fingerprint TEXT PRIMARY KEY, type TEXT NOT NULL, message TEXT NOT NULL, service TEXT,
  count INTEGER NOT NULL, first_seen REAL NOT NULL, last_seen REAL NOT NULL, sample_stack TEXT,
  last_host TEXT, last_trace_id TEXT);
CREATE INDEX IF NOT EXISTS error_groups_last ON error_groups(last_seen);
CREATE TABLE IF NOT EXISTS error_hours (
  fingerprint TEXT NOT NULL, hour INTEGER NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (fingerprint, hour)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS docs (
  kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, version INTEGER NOT NULL,
  PRIMARY KEY (kind, id));
"""


class SqliteStore(RollupTables, FleetTables, MetaTables):
    """The local `Store`. `retention_seconds` bounds what raw reads return and what purge removes.
    Owned parts, each handed what it uses: the file (`db`), the series ids (`series`), the packed head
    (`head`), the columnar blocks (`blocks`), ingest's writes (`writer`), bulk loads (`bulk`), rollup
    blocks. Rollups and the SQL-side summaries live in `sqlite_rollups.RollupTables`, fleet rollups in
    `sqlite_fleet.FleetTables` (bases reading raw samples through `sqlite_meta.SeriesTables`)."""

    def __init__(self, path: Path, retention_seconds: float) -> None:
        self.path = Path(path)
        self.retention_seconds = retention_seconds
        self.db = SqliteDatabase(self.path)
        self._rollup_blocks = RollupBlocks(self.db)
        self.series = SeriesIds()
        self._series_ids = self.series.ids  # the cache the rollup half reads (`SeriesTables`)
        self.head = HeadPacks(self.db)
        self.blocks = Blocks(self.db, self.head)
        self.writer = SampleWriter(self.db, self.head, self.series)
        self.bulk = BulkLoader(self.db, self.blocks, self.head, self.series, retention_seconds)
        # executescript manages its own transaction
        schemas = (_SCHEMA, BLOCKS_SCHEMA, HEAD_SCHEMA, FLEET_SCHEMA, ROLLUP_BLOCKS_SCHEMA)
        self._conn().executescript("".join(schemas))
        self._migrate()

    def _migrate(self) -> None:
        """Bring a file written by an older Vigil up to `SCHEMA_VERSION` (`PRAGMA user_version`), once.

        Version 1: series keys are `identity.series_key` (escaped). Keys are recomputed from each row's
        stored host, metric and labels; only rows whose labels hold `,` `=` `|` `\\` change.
        Version 2: raw samples in columnar blocks (`sqlite_blocks`, the table made by the schema). An
        older file's rows are the head: reads merge them as ever, and the storage job's next
        `compact` moves them (in the jobs worker, bounded transactions; ≈ 16 s per 2.9 M samples
        here), so a large file does not hold up the server's start.
        Version 3: hourly and daily rollups and the fleet records in columnar blocks
        (`sqlite_rollup_blocks`, `sqlite_fleet`): the JSON rows are moved here, on open, in bounded
        transactions (≈ 17 s per 100 k rollup rows here, on a busy machine).
        Version 4: plain samples arrive as packed head rows (`sqlite_head`, the table made by the
        schema). An older file's `samples` rows stay the head under the packs (a pack's sample wins at
        the same time) until `compact` moves them: nothing is moved on open."""
        conn = self._conn()
        if conn.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
            return
        self._rollup_blocks.migrate()
        self.migrate_fleet()
        with self._write() as tx:
            version = tx.execute("PRAGMA user_version").fetchone()[0]
            if version >= SCHEMA_VERSION:
                return  # another process migrated while this one waited for the write lock
            if version < 1:
                self._rekey_series(tx)
            tx.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @staticmethod
    def _rekey_series(tx: sqlite3.Connection) -> None:
        changed = []
        for sid, host, metric, labels_json, old in tx.execute(
            "SELECT id, host, metric, labels, skey FROM series"
        ).fetchall():
            key = series_key(host, metric, tuple(sorted(json.loads(labels_json).items())))
            if key != old:
                changed.append((key, sid))
        # Two steps: one row's new key can be another row's old key (the key column is UNIQUE).
        parked = [(f"\x00{sid}", sid) for _, sid in changed]
        tx.executemany("UPDATE series SET skey = ? WHERE id = ?", parked)
        tx.executemany("UPDATE series SET skey = ? WHERE id = ?", changed)

    # -- the file (`sqlite_db`) ----------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        return self.db.conn()

    def _write(self) -> WriteTransaction:
        return self.db.write()

    # -- samples (writing: `sqlite_ingest.SampleWriter`, bulk loads: `sqlite_bulk.BulkLoader`) -------
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

    def put_series_batches(self, batches: Sequence[HostBatch], now: float) -> list[bool]:
        """`capabilities.SeriesBatchStore`."""
        return self.writer.put_series_batches(batches, now)

    def put_series_bulk(
        self, blocks: Iterable[SeriesBlock], now: float, *, rows_per_transaction: int = ROWS_PER_TRANSACTION
    ) -> BulkLoad:
        """`capabilities.BulkStore` (`sqlite_bulk.BulkLoader.put_series_bulk`)."""
        return self.bulk.put_series_bulk(blocks, now, rows_per_transaction=rows_per_transaction)

    # -- raw samples as the read-side halves read them (`sqlite_meta.SeriesTables`) -----------------
    def raw_columns(
        self, marks: str, ids: Sequence[Any], start: float, end: float
    ) -> tuple[Ints, Floats, Floats] | None:
        return self.blocks.raw_columns(marks, ids, start, end)

    def has_plain_stored(self, marks: str, ids: Sequence[Any], start: float, end: float) -> bool:
        return self.blocks.has_plain_stored(marks, ids, start, end)

    def newest_in_blocks(self, sid: int, since: float, after: float) -> tuple[float, float] | None:
        return self.blocks.newest_in_blocks(sid, since, after)

    def compact(self, now: float, rows_per_transaction: int = COMPACT_ROWS) -> int:
        """`sqlite_blocks.Blocks.compact`: the head's samples of blocks an hour old into blocks."""
        return self.blocks.compact(now, rows_per_transaction)

    def query_points(
        self,
        metric: str,
        start: float,
        end: float,
        hosts: Sequence[str] | None = None,
        labels: dict[str, str] | None = None,
        now: float | None = None,
    ) -> Iterator[Point]:
        return self._points(self._series_rows([metric], hosts, labels), start, end, now)

    def query_many(
        self,
        metrics: Sequence[str] | None,
        start: float,
        end: float,
        hosts: Sequence[str] | None = None,
        now: float | None = None,
    ) -> Iterator[Point]:
        return self._points(self._series_rows(metrics, hosts, None), start, end, now)

    def _series_rows(
        self, metrics: Sequence[str] | None, hosts: Sequence[str] | None, labels: dict[str, str] | None
    ) -> list[tuple[int, str, str, tuple[tuple[str, str], ...]]]:
        """(id, host, metric, labels) of the series matching the filters."""
        sql = "SELECT id, host, metric, labels FROM series WHERE 1=1"
        args: list[Any] = []
        if metrics is not None:
            sql += f" AND metric IN ({','.join('?' * len(metrics))})"
            args.extend(metrics)
        if hosts:
            sql += f" AND host IN ({','.join('?' * len(hosts))})"
            args.extend(hosts)
        out = []
        for sid, host, metric, labels_json in self._conn().execute(sql, args):
            label_map: dict[str, str] = json.loads(labels_json)
            if labels and any(label_map.get(k) != v for k, v in labels.items()):
                continue
            out.append((int(sid), host, metric, tuple(sorted(label_map.items()))))
        return out

    def _points(
        self,
        series: list[tuple[int, str, str, tuple[tuple[str, str], ...]]],
        start: float,
        end: float,
        now: float | None,
    ) -> Iterator[Point]:
        if now is not None:
            start = max(start, now - self.retention_seconds)
        conn = self._conn()
        for sid, host, metric, ltuple in series:
            head = conn.execute(
                "SELECT ts, value, hist FROM samples WHERE series_id = ? AND ts >= ? AND ts <= ?",
                (sid, start, end),
            ).fetchall()
            _, ts_col, value_col = self.blocks.block_samples("?", [sid], start, end)
            _, pack_ts, pack_values, pack_ids = self.head.columns("?", [sid], start, end)
            rows: list[tuple[float, float | None, str | None]] = head
            if len(ts_col) or len(pack_ts):
                stored = {
                    ts: (ts, v, None) for ts, v in zip(ts_col.tolist(), value_col.tolist(), strict=True)
                }
                stored.update((row[0], row) for row in head)  # the head's sample wins (it is newer)
                in_order = np.argsort(pack_ids, kind="stable")  # and the latest pack's over all
                stored.update(
                    (ts, (ts, v, None))
                    for ts, v in zip(pack_ts[in_order].tolist(), pack_values[in_order].tolist(), strict=True)
                )
                rows = [stored[ts] for ts in sorted(stored)]
            for ts, value, hist in rows:
                yield Point(
                    host, metric, ltuple, ts, value, Histogram.from_json(json.loads(hist)) if hist else None
                )

    def latest_points(self, metrics: Sequence[str], since: float) -> list[Point]:
        if not metrics:
            return []
        conn = self._conn()
        out: list[Point] = []
        rows = conn.execute(
            f"SELECT id, host, metric, labels FROM series WHERE metric IN ({','.join('?' * len(metrics))})"
            " AND last_seen >= ?",
            [*metrics, since],
        ).fetchall()
        for sid, host, metric, labels_json in rows:
            row = conn.execute(
                "SELECT ts, value, hist FROM samples WHERE series_id = ? AND ts >= ?"
                " ORDER BY ts DESC LIMIT 1",
                (sid, since),
            ).fetchone()
            newest = self.newest_in_blocks(sid, since, -math.inf if row is None else row[0])
            if newest is not None:  # compacted already, or bulk-loaded after the head's newest
                row = (*newest, None)
            packed = self.head.newest(sid, since)
            if packed is not None and (row is None or packed[0] >= row[0]):  # a pack wins ties
                row = (*packed, None)
            if row:
                ts, value, hist = row
                out.append(
                    Point(
                        host,
                        metric,
                        tuple(sorted(json.loads(labels_json).items())),
                        ts,
                        value,
                        Histogram.from_json(json.loads(hist)) if hist else None,
                    )
                )
        return out

    def list_hosts(
        self, after: str | None = None, limit: int | None = None, only: Callable[[str], bool] | None = None
    ) -> list[HostInfo]:
        rows = self._conn().execute(
            "SELECT s.host, min(s.first_seen), max(s.last_seen), count(*), p.last_push, p.gaps, p.declared"
            " FROM series s LEFT JOIN host_pushes p ON p.host = s.host WHERE s.host > ?"
            " GROUP BY s.host ORDER BY s.host LIMIT ?",
            (after or "", -1 if limit is None or only is not None else limit),
        )
        hosts = [
            HostInfo(h, f, last, n, Cadence(push, tuple(json.loads(gaps or "[]")), declared))
            for h, f, last, n, push, gaps, declared in rows
            if only is None or only(h)
        ]
        return hosts if limit is None else hosts[:limit]

    def list_metrics(self) -> dict[str, list[str]]:
        found: dict[str, set[str]] = {}
        for metric, labels_json in self._conn().execute("SELECT DISTINCT metric, labels FROM series"):
            found.setdefault(metric, set()).update(json.loads(labels_json))
        return {m: sorted(keys) for m, keys in sorted(found.items())}

    def series_count(self, host: str) -> int:
        (n,) = self._conn().execute("SELECT count(*) FROM series WHERE host = ?", (host,)).fetchone()
        return int(n)

    def known_series(self, host: str, wanted: Collection[str] = ()) -> set[str]:
        # the ids cache holds only committed series (purge clears it): when it knows every wanted
        # key, that answers the guard without a query per batch
        if wanted and self.series.knows_all(wanted):
            return set(wanted)
        return {r[0] for r in self._conn().execute("SELECT skey FROM series WHERE host = ?", (host,))}

    def purge_expired(self, now: float) -> int:
        """Raw samples past the retention, rollups 400 days after their bucket ends, and series rows
        nothing refers to any more (no sample, no rollup, not seen within the raw retention); then the
        head's samples of blocks an hour old are compacted (`sqlite_blocks.compact`: this hourly job is
        the one that owns the file's layout), after the expired ones are gone."""
        cutoff = now - self.retention_seconds
        with self._write() as conn:
            removed = conn.execute("DELETE FROM samples WHERE ts < ?", (cutoff,)).rowcount
            removed += self.head.purge(conn, cutoff)
            (in_blocks,) = conn.execute("SELECT total(n) FROM blocks WHERE last < ?", (cutoff,)).fetchone()
            conn.execute("DELETE FROM blocks WHERE last < ?", (cutoff,))
            removed += int(in_blocks)
            # Batch keys outlive short retentions: a client key is remembered for at least 24 h.
            keys_kept = max(self.retention_seconds, IDEMPOTENCY_SECONDS)
            conn.execute("DELETE FROM batches WHERE received_at < ?", (now - keys_kept,))
            for res, width in RESOLUTION_SECONDS.items():
                kept = self.retention_seconds if res == FINE else ROLLUP_RETENTION_SECONDS
                if res in BLOCK_SECONDS:  # a block goes once its last bucket has
                    self._rollup_blocks.purge(conn, res, now - kept - width)
                    continue
                width = 3600.0 if res == FINE else width  # fine-tier rows hold a whole hour
                conn.execute("DELETE FROM rollups WHERE res = ? AND start < ?", (res, now - kept - width))
            gone = conn.execute(
                "DELETE FROM series WHERE last_seen < ?"
                " AND NOT EXISTS (SELECT 1 FROM samples WHERE series_id = series.id)"
                " AND NOT EXISTS (SELECT 1 FROM head_packs WHERE series_id = series.id)"
                " AND NOT EXISTS (SELECT 1 FROM blocks WHERE series_id = series.id)"
                " AND NOT EXISTS (SELECT 1 FROM rollups WHERE series_id = series.id)"
                " AND NOT EXISTS (SELECT 1 FROM rollup_blocks WHERE series_id = series.id)",
                (cutoff,),
            ).rowcount
            if gone:  # inside the transaction: no writer can pick up a cached id of a deleted row
                self.series.forget_all()
        self.purge_fleet(now)
        self.blocks.compact(now)
        return int(removed)

    # -- health ----------------------------------------------------------------------------------
    def ping(self) -> None:
        """Raises Unavailable when the file does not answer, StorageFull when a write could not land."""
        try:
            self._conn().execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise Unavailable(f"SQLite store unavailable: {exc}") from exc
        self.db.space.check(self.db.probe_write)

    def close(self) -> None:
        self.db.close()
