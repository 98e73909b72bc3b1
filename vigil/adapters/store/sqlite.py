"""SQLite implementation of the `Store` port: local mode and most tests.

The file, its connections and write transactions are `sqlite_db.SqliteDatabase` (owned here and
handed to the parts that need it). Samples arrive in a WITHOUT ROWID head table keyed by (series id,
ts) and are compacted into columnar blocks (`sqlite_blocks`) once their two hours are an hour old;
reads merge both. Hourly and daily rollups are columnar blocks too (`sqlite_rollup_blocks`).

Must not import boto3 or anything from `vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vigil.adapters.store.sqlite_blocks import BLOCKS_SCHEMA
from vigil.adapters.store.sqlite_bulk import BulkTables
from vigil.adapters.store.sqlite_db import SqliteDatabase, WriteTransaction
from vigil.adapters.store.sqlite_fleet import FLEET_SCHEMA, FleetTables
from vigil.adapters.store.sqlite_head import HEAD_SCHEMA, HeadPacks, pack
from vigil.adapters.store.sqlite_meta import MetaTables
from vigil.adapters.store.sqlite_rollup_blocks import BLOCK_SECONDS, ROLLUP_BLOCKS_SCHEMA, RollupBlocks
from vigil.adapters.store.sqlite_rollups import RollupTables
from vigil.domain.batches import IDEMPOTENCY_SECONDS, batch_key
from vigil.domain.cadence import Cadence, observe_push
from vigil.domain.errors import Unavailable
from vigil.domain.identity import series_key
from vigil.domain.models import Histogram, HostInfo, Point
from vigil.domain.rollups import FINE, RESOLUTION_SECONDS, ROLLUP_RETENTION_SECONDS
from vigil.domain.series_batch import HostBatch, Labels, SeriesSamples

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


class SqliteStore(BulkTables, RollupTables, FleetTables, MetaTables):
    """The local `Store`. `retention_seconds` bounds what raw reads return and what purge removes.
    Rollups and the SQL-side summaries live in `sqlite_rollups.RollupTables`, fleet rollups in
    `sqlite_fleet.FleetTables`, bulk loads in `sqlite_bulk.BulkTables`."""

    def __init__(self, path: Path, retention_seconds: float) -> None:
        self.path = Path(path)
        self.retention_seconds = retention_seconds
        self.db = SqliteDatabase(self.path)
        self._rollup_blocks = RollupBlocks(self.db)
        self._head = HeadPacks(self.db)
        self._series_ids: dict[str, int] = {}  # series key → row id; only grows, safe to share
        self._series_lock = threading.Lock()
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

    # -- samples ---------------------------------------------------------------------------------
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
        new_ids: dict[str, int] = {}
        with self._write() as conn:
            stored = self._put_batch(conn, host, batch_key(host, points, batch_id, timestamped), now)
            if stored:
                self._observe_push(conn, host, now, push_interval)
                self._put_points(conn, points, now, new_ids)
        self._remember(new_ids)
        return stored

    def put_series_batches(self, batches: Sequence[HostBatch], now: float) -> list[bool]:
        """`capabilities.SeriesBatchStore`: every batch in one transaction, each series one pack."""
        new_ids: dict[str, int] = {}
        stored = []
        with self._write() as conn:
            for batch in batches:
                stored.append(self._put_batch(conn, batch.host, batch.key, now))
                if stored[-1]:
                    self._observe_push(conn, batch.host, now, batch.push_interval)
                    self._put_series(conn, batch.host, batch.series, now, new_ids)
        self._remember(new_ids)
        return stored

    @staticmethod
    def _put_batch(conn: sqlite3.Connection, host: str, bkey: str | None, now: float) -> bool:
        """The batch's key recorded in the caller's transaction, so key and samples commit together
        (neither is ever stored without the other); False when the key was there already."""
        if bkey is None:
            return True
        inserted = conn.execute(
            "INSERT OR IGNORE INTO batches(host, bkey, received_at) VALUES (?,?,?)", (host, bkey, now)
        ).rowcount
        return inserted == 1

    def _remember(self, new_ids: dict[str, int]) -> None:
        """Only ids of committed rows are cached: a rolled-back series insert must not be remembered."""
        with self._series_lock:
            self._series_ids.update(new_ids)

    def _put_points(
        self, conn: sqlite3.Connection, points: Sequence[Point], now: float, new_ids: dict[str, int]
    ) -> None:
        """A batch's points in the caller's transaction: plain values grouped per series for
        `_put_series`, histogram samples as rows of `samples`."""
        by_series: dict[tuple[str, str, Labels], SeriesSamples] = {}
        hist_rows: list[tuple[int, float, None, str]] = []
        last: dict[int, float] = {}
        for p in points:
            if p.histogram is None:
                group = by_series.get((p.host, p.metric, p.labels))
                if group is None:
                    group = by_series[p.host, p.metric, p.labels] = SeriesSamples(p.metric, p.labels, [], [])
                group.ts.append(p.ts)
                group.values.append(p.value)  # type: ignore[arg-type]  # a plain sample has a value
            else:
                sid = self._series_id(conn, p.host, p.metric, p.labels, now, new_ids)
                hist_rows.append((sid, p.ts, None, json.dumps(p.histogram.to_json())))
                last[sid] = max(last.get(sid, p.ts), p.ts)
        if hist_rows:
            conn.executemany(
                "INSERT OR REPLACE INTO samples(series_id, ts, value, hist) VALUES (?,?,?,?)", hist_rows
            )
            self._seen(conn, last, now)
        if by_series:
            host = points[0].host  # a batch is one host's
            self._put_series(conn, host, list(by_series.values()), now, new_ids)

    def _put_series(
        self,
        conn: sqlite3.Connection,
        host: str,
        series: Sequence[SeriesSamples],
        now: float,
        new_ids: dict[str, int],
    ) -> None:
        """Each series' samples as one packed head row (`sqlite_head`), in the caller's transaction."""
        packs = []
        last: dict[int, float] = {}
        for s in series:
            sid = self._series_id(conn, host, s.metric, s.labels, now, new_ids)
            lo, hi, n, body = pack(s.ts, s.values)
            packs.append((sid, body, lo, hi, n))
            last[sid] = max(last.get(sid, hi), hi)
        self._head.append(conn, packs)
        self._seen(conn, last, now)

    @staticmethod
    def _seen(conn: sqlite3.Connection, last: dict[int, float], now: float) -> None:
        conn.executemany(
            "UPDATE series SET last_seen = max(last_seen, ?) WHERE id = ?",
            [(max(hi, now), sid) for sid, hi in last.items()],
        )

    def _observe_push(self, conn: sqlite3.Connection, host: str, now: float, declared: float | None) -> None:
        """The host's cadence record, in the batch's own transaction (no commit of its own)."""
        sql = "SELECT last_push, gaps, declared FROM host_pushes WHERE host = ?"
        row = conn.execute(sql, (host,)).fetchone()
        before = Cadence() if row is None else Cadence(row[0], tuple(json.loads(row[1])), row[2])
        after = observe_push(before, now, declared)
        conn.execute(
            "INSERT OR REPLACE INTO host_pushes(host, last_push, gaps, declared) VALUES (?,?,?,?)",
            (host, after.last_push, json.dumps(after.gaps), after.declared),
        )

    def _series_id(
        self,
        conn: sqlite3.Connection,
        host: str,
        metric: str,
        labels: Labels,
        now: float,
        new_ids: dict[str, int],
    ) -> int:
        skey = series_key(host, metric, labels)
        sid = self._series_ids.get(skey) or new_ids.get(skey)
        if sid is not None:
            return sid
        conn.execute(
            "INSERT OR IGNORE INTO series(host, metric, labels, skey, first_seen, last_seen)"
            " VALUES (?,?,?,?,?,?)",
            (host, metric, json.dumps(dict(labels)), skey, now, now),
        )
        (sid,) = conn.execute("SELECT id FROM series WHERE skey = ?", (skey,)).fetchone()
        new_ids[skey] = int(sid)
        return int(sid)

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
            _, ts_col, value_col = self.block_samples("?", [sid], start, end)
            _, pack_ts, pack_values, pack_ids = self._head.columns("?", [sid], start, end)
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
            packed = self._head.newest(sid, since)
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
        if wanted and all(key in self._series_ids for key in wanted):
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
            removed += self._head.purge(conn, cutoff)
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
                with self._series_lock:
                    self._series_ids.clear()
        self.purge_fleet(now)
        self.compact(now)
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
