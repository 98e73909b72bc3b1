"""The bulk-load half of `SqliteStore`: millions of plain-value samples written fast (back-fills, the
scale bench), into the same `series` table ingest writes and the columnar `blocks` compaction writes
(a series' head packs are folded into its blocks first, so the load's samples win at their times).

Why not `put_samples` in a loop: a batch there is a `Point` per sample, a cadence update, a batch key
and a transaction of its own (≈ 130 k samples/s here). A `SeriesBlock` carries one series' samples as
two arrays: the series row is resolved once per block and its samples go straight into columnar
blocks (`sqlite_blocks.put_blocks`, merged with any block already stored), many blocks per
transaction (`ROWS_PER_TRANSACTION`), with a larger page cache for the connection while it runs.
Transactions stay bounded so the write lock is handed to ingest and the jobs between them and the WAL
stays small. A bulk load is not a push: it leaves the hosts' cadence and batch keys alone, and
records `first_seen`/`last_seen` from the samples' own times. Rollups and the fleet tier are built
afterwards by the jobs themselves (`vigil.services.backfill`). Must not import boto3 nor
`vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import json
import math
import operator
import sqlite3
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from itertools import islice

import numpy as np

from vigil.adapters.store.sqlite_blocks import Blocks
from vigil.adapters.store.sqlite_db import SqliteDatabase
from vigil.adapters.store.sqlite_head import HeadPacks
from vigil.adapters.store.sqlite_series import SeriesIds
from vigil.domain.errors import Invalid
from vigil.domain.identity import series_key
from vigil.domain.limits import MAX_ABS_VALUE, MAX_FUTURE_SECONDS
from vigil.domain.records import BulkLoad, SeriesBlock

ROWS_PER_TRANSACTION = 500_000
BULK_CACHE_KIB = 256 * 1024  # page cache while loading (SQLite's default is 2 MiB)


class BulkLoader:
    """Bulk loads; owned by `SqliteStore`, sharing its database, blocks, head and series ids."""

    def __init__(
        self, db: SqliteDatabase, blocks: Blocks, head: HeadPacks, series: SeriesIds, retention_seconds: float
    ) -> None:
        self.db = db
        self.blocks = blocks
        self.head = head
        self.series = series
        self.retention_seconds = retention_seconds

    def put_series_bulk(
        self, blocks: Iterable[SeriesBlock], now: float, *, rows_per_transaction: int = ROWS_PER_TRANSACTION
    ) -> BulkLoad:
        """Write every block's samples (a sample at an existing (series, ts) replaces it, as ingest
        does). Samples older than the raw retention or more than `MAX_FUTURE_SECONDS` ahead of `now`
        are skipped and counted. Each transaction is all-or-nothing; a failure stops the load and keeps
        the transactions already committed (loading again is idempotent). A malformed block stops the
        load too, after storing every block before it.

        Raises:
            Invalid: a block whose arrays differ in length, or holds a value that is not finite or
                beyond `MAX_ABS_VALUE` (checked before its transaction: nothing of it is written).
        """
        lo, hi = now - self.retention_seconds, now + MAX_FUTURE_SECONDS
        conn = self.db.conn()
        (cache,) = conn.execute("PRAGMA cache_size").fetchone()
        conn.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        rows = skipped = 0
        first, last = math.inf, -math.inf
        hosts: set[str] = set()
        pending: list[tuple[SeriesBlock, int, int]] = []  # block, index of its first and past its last kept
        size = 0
        try:
            for block in blocks:
                try:
                    a, b = _kept_range(block, lo, hi)
                except Invalid:
                    if pending:  # every block before the malformed one is stored, nothing after it
                        rows += self._write_blocks(pending)
                    raise
                skipped += len(block.timestamps) - (b - a)
                if a == b:
                    continue
                pending.append((block, a, b))
                size += b - a
                first, last = min(first, block.timestamps[a]), max(last, block.timestamps[b - 1])
                hosts.add(block.host)
                if size >= rows_per_transaction:
                    rows += self._write_blocks(pending)
                    pending, size = [], 0
            if pending:
                rows += self._write_blocks(pending)
        finally:
            conn.execute(f"PRAGMA cache_size = {cache}")
        return BulkLoad(
            rows, skipped, None if not rows else first, None if not rows else last, frozenset(hosts)
        )

    def _write_blocks(self, blocks: list[tuple[SeriesBlock, int, int]]) -> int:
        written = 0
        new_ids: dict[str, int] = {}
        with self.db.write() as conn:
            for block, a, b in blocks:
                ts, values = block.timestamps[a:b], block.values[a:b]
                sid = self._bulk_series_id(conn, block, ts[0], ts[-1], new_ids)
                # straight into columnar blocks; a head sample at the same time would win on reads
                # over the block's, so it goes (the bulk sample replaces it, as `put_samples` would)
                head = conn.execute(
                    "SELECT ts FROM samples WHERE series_id = ? AND ts >= ? AND ts <= ?", (sid, ts[0], ts[-1])
                ).fetchall()
                if head:
                    wanted = set(ts)
                    gone = [(sid, t) for (t,) in head if t in wanted]
                    conn.executemany("DELETE FROM samples WHERE series_id = ? AND ts = ?", gone)
                # so do the series' packs: into its blocks first (all of them, keeping their order)
                for packed_ts, packed_values in self.head.take(conn, block.host, None, {sid}).values():
                    self.blocks.put_blocks(conn, sid, packed_ts, packed_values)
                self.blocks.put_blocks(
                    conn, sid, np.asarray(ts, dtype=np.float64), np.asarray(values, dtype=np.float64)
                )
                written += b - a
        self.series.remember(new_ids)  # only ids of committed rows are cached (as ingest does)
        return written

    def _bulk_series_id(
        self, conn: sqlite3.Connection, block: SeriesBlock, lo: float, hi: float, new_ids: dict[str, int]
    ) -> int:
        skey = series_key(block.host, block.metric, block.labels)
        conn.execute(
            "INSERT INTO series(host, metric, labels, skey, first_seen, last_seen) VALUES (?,?,?,?,?,?)"
            " ON CONFLICT(skey) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen),"
            " last_seen = max(last_seen, excluded.last_seen)",
            (block.host, block.metric, json.dumps(dict(block.labels)), skey, lo, hi),
        )
        sid = self.series.ids.get(skey) or new_ids.get(skey)
        if sid is None:
            (sid,) = conn.execute("SELECT id FROM series WHERE skey = ?", (skey,)).fetchone()
            new_ids[skey] = int(sid)
        return int(sid)


def _kept_range(block: SeriesBlock, lo: float, hi: float) -> tuple[int, int]:
    """[a, b): the block's samples inside [lo, hi], after checking the block. Timestamps must ascend
    (a series' samples in time order), so the kept ones are one slice."""
    ts, values = block.timestamps, block.values
    if len(ts) != len(values):
        raise Invalid(f"{len(ts)} timestamps but {len(values)} values", field="values")
    if not all(map(operator.lt, ts, islice(ts, 1, None))):
        raise Invalid(f"timestamps of {block.metric} on {block.host} must ascend", field="timestamps")
    if values and not (all(map(math.isfinite, values)) and max(map(abs, values)) <= MAX_ABS_VALUE):
        raise Invalid(f"a value of {block.metric} on {block.host} is not a finite number", field="values")
    return bisect_left(ts, lo), bisect_right(ts, hi)
