"""The columnar half of `SqliteStore`'s raw samples: table `blocks`, one row per (series, 2-hour block)
whose body is the block's timestamps and values packed by `columns.encode` (about 0.6 bytes a sample
for a steady gauge, against ~48 for a row of `samples`; docs/architecture.md, "Sample storage").

The head, as in Prometheus, is where ingest writes: packed rows per series and batch
(`sqlite_head`), and `samples` rows (histograms; an older file's plain values). `compact` (run by the
hourly retention job) moves the plain values of blocks that ended at least `HEAD_SECONDS` ago into
`blocks`, merging with the block already stored — `samples` rows first, then the packs in order.
Histogram samples stay in `samples`. A late sample lands in the head again and wins over the block's
sample at the same time until the next compaction merges it in. Reads merge both (`block_points`,
`raw_columns`). The bulk path writes blocks directly. Must not import boto3 nor `vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from vigil.adapters.store import columns
from vigil.adapters.store.sqlite_db import SqliteDatabase
from vigil.adapters.store.sqlite_head import HeadPacks

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
BLOCK_SECONDS = 7200.0
HEAD_SECONDS = 3600.0  # a block is compacted once it ended this long ago (late samples come sooner)
COMPACT_ROWS = 200_000  # head rows moved per transaction: the write lock is handed over between them
HOSTS_PER_COMPACTION = 64  # hosts' packs read per compaction transaction (fewer once it moved COMPACT_ROWS)
BLOCKS_SCHEMA = """
CREATE TABLE IF NOT EXISTS blocks (
  series_id INTEGER NOT NULL, start REAL NOT NULL, last REAL NOT NULL, n INTEGER NOT NULL,
  body BLOB NOT NULL, PRIMARY KEY (series_id, start)) WITHOUT ROWID;
"""


def block_of(ts: float) -> float:
    """The start of the block holding `ts`."""
    return ts - ts % BLOCK_SECONDS


class Blocks:
    """The blocks table and the head's compaction into it; owned by `SqliteStore`, which hands it the
    database and the head it merges with."""

    def __init__(self, db: SqliteDatabase, head: HeadPacks) -> None:
        self.db = db
        self.head = head

    # -- writing ---------------------------------------------------------------------------------
    def put_block(self, conn: sqlite3.Connection, sid: int, ts: Floats, values: Floats) -> None:
        """Samples of one series inside one block (ascending `ts`) merged into the stored block; on
        equal timestamps the new sample wins. In the caller's transaction."""
        start = block_of(float(ts[0]))
        row = conn.execute(
            "SELECT body FROM blocks WHERE series_id = ? AND start = ?", (sid, start)
        ).fetchone()
        if row is not None:
            old_ts, old_values = columns.decode(row[0])
            ts, values = merge_newest((old_ts, old_values), (ts, values))
        conn.execute(
            "INSERT OR REPLACE INTO blocks(series_id, start, last, n, body) VALUES (?,?,?,?,?)",
            (sid, start, float(ts[-1]), len(ts), columns.encode(ts, values)),
        )

    def put_blocks(self, conn: sqlite3.Connection, sid: int, ts: Floats, values: Floats) -> None:
        """Ascending samples of one series, split at block boundaries (`put_block` each)."""
        starts = ts - ts % BLOCK_SECONDS
        cuts = np.flatnonzero(np.diff(starts)) + 1
        for a, b in zip([0, *cuts.tolist()], [*cuts.tolist(), len(ts)], strict=True):
            self.put_block(conn, sid, ts[a:b], values[a:b])

    def compact(self, now: float, rows_per_transaction: int = COMPACT_ROWS) -> int:
        """Move the head's plain samples of blocks that ended `HEAD_SECONDS` before `now` into
        `blocks`; returns how many moved. Each transaction moves whole (series, block) groups read and
        deleted in it, so a crash between two loses nothing and moves nothing twice."""
        cutoff = block_of(now - HEAD_SECONDS)
        moved = self._compact_rows(cutoff, rows_per_transaction)
        # then the packs (newer than any `samples` row of plain values, so merged in after them), a
        # host's at a time, hosts until a transaction has moved about `rows_per_transaction`
        while True:
            with self.db.write() as conn:
                hosts = self.head.hosts_before(conn, cutoff, HOSTS_PER_COMPACTION)
                if not hosts:
                    return moved
                in_this = 0
                for host in hosts:
                    for sid, (ts, values) in self.head.take(conn, host, cutoff).items():
                        self.put_blocks(conn, sid, ts, values)
                        in_this += len(ts)
                    if in_this >= rows_per_transaction:
                        break
                moved += in_this

    def _compact_rows(self, cutoff: float, rows_per_transaction: int) -> int:
        """`compact` for the rows of `samples` (files written before the packed head)."""
        moved = 0
        while True:
            with self.db.write() as conn:
                rows = conn.execute(
                    "SELECT series_id, ts, value FROM samples WHERE hist IS NULL AND value IS NOT NULL"
                    " AND ts < ? ORDER BY series_id, ts LIMIT ?",
                    (cutoff, rows_per_transaction),
                ).fetchall()
                if not rows:
                    return moved
                sid_col, ts_col, value_col = (np.array(c) for c in zip(*rows, strict=True))
                ts_col, value_col = ts_col.astype(np.float64), value_col.astype(np.float64)
                key = np.stack([sid_col.astype(np.float64), ts_col - ts_col % BLOCK_SECONDS])
                cuts = (np.flatnonzero(np.any(np.diff(key, axis=1) != 0, axis=0)) + 1).tolist()
                for a, b in zip([0, *cuts], [*cuts, len(rows)], strict=True):
                    sid, first, last = int(sid_col[a]), float(ts_col[a]), float(ts_col[b - 1])
                    self.put_block(conn, sid, ts_col[a:b], value_col[a:b])
                    conn.execute(
                        "DELETE FROM samples WHERE series_id = ? AND ts >= ? AND ts <= ? AND hist IS NULL"
                        " AND value IS NOT NULL",
                        (sid, first, last),
                    )
                moved += len(rows)

    # -- reading ---------------------------------------------------------------------------------
    def block_samples(
        self, marks: str, ids: Sequence[Any], start: float, end: float
    ) -> tuple[Ints, Floats, Floats]:
        """(series id, ts, value) of the stored blocks' samples in [start, end] for the series chosen
        by `marks` (`?` placeholders for `ids`, or a subquery), sorted by series then time."""
        rows = (
            self.db.conn()
            .execute(
                f"SELECT series_id, body FROM blocks WHERE series_id IN ({marks})"
                " AND start >= ? AND start <= ? AND last >= ? ORDER BY series_id, start",
                [*ids, block_of(start), end, start],
            )
            .fetchall()
        )
        if not rows:
            return np.empty(0, np.int64), np.empty(0), np.empty(0)
        counts, ts_col, value_col = columns.decode_many([body for _, body in rows])
        sid_col = np.repeat(np.array([sid for sid, _ in rows], dtype=np.int64), counts)
        keep = (ts_col >= start) & (ts_col <= end)
        return sid_col[keep], ts_col[keep], value_col[keep]

    def raw_columns(
        self, marks: str, ids: Sequence[Any], start: float, end: float
    ) -> tuple[Ints, Floats, Floats] | None:
        """Every plain sample in [start, end] of the chosen series — blocks and head merged, the head's
        sample winning on equal times — sorted by series then time; None when a histogram sample is
        among the head's."""
        head = (
            self.db.conn()
            .execute(
                f"SELECT series_id, ts, value, hist FROM samples WHERE series_id IN ({marks})"
                " AND ts >= ? AND ts <= ?",
                [*ids, start, end],
            )
            .fetchall()
        )
        if any(h is not None for *_, h in head):
            return None
        stored = self.block_samples(marks, ids, start, end)
        sid_p, ts_p, value_p, pack_ids = self.head.columns(marks, ids, start, end)
        if not head and not len(ts_p):
            return stored
        sid_h = np.array([row[0] for row in head], dtype=np.int64)
        ts_h = np.array([row[1] for row in head], dtype=np.float64)
        value_h = np.array([row[2] for row in head], dtype=np.float64)
        sid = np.concatenate([sid_p, sid_h, stored[0]])
        ts = np.concatenate([ts_p, ts_h, stored[1]])
        value = np.concatenate([value_p, value_h, stored[2]])
        # which sample wins a time: the latest pack's, then a `samples` row, then the block's
        newer = np.concatenate([-pack_ids, np.zeros(len(head), np.int64), np.ones(len(stored[0]), np.int64)])
        order = np.lexsort((newer, ts, sid))  # by series, time, then the newest first
        sid, ts, value = sid[order], ts[order], value[order]
        first = np.ones(len(sid), dtype=bool)
        first[1:] = (sid[1:] != sid[:-1]) | (ts[1:] != ts[:-1])
        return sid[first], ts[first], value[first]

    def newest_in_blocks(self, sid: int, since: float, after: float) -> tuple[float, float] | None:
        """(ts, value) of the series' newest sample in its blocks when it is at or after `since` and
        after `after` (the head's newest); only then is a block decoded."""
        row = (
            self.db.conn()
            .execute("SELECT last, body FROM blocks WHERE series_id = ? ORDER BY start DESC LIMIT 1", (sid,))
            .fetchone()
        )
        if row is None or row[0] < since or row[0] <= after:
            return None
        ts, values = columns.decode(row[1])
        return float(ts[-1]), float(values[-1])

    def has_plain_stored(self, marks: str, ids: Sequence[Any], start: float, end: float) -> bool:
        """Whether a block or a head pack (plain values only, both) holds a sample in [start, end] of
        the chosen series."""
        conn = self.db.conn()
        row = conn.execute(
            f"SELECT 1 FROM blocks WHERE series_id IN ({marks})"
            " AND start >= ? AND start <= ? AND last >= ? LIMIT 1",
            [*ids, block_of(start), end, start],
        ).fetchone()
        return row is not None or self.head.holds(marks, ids, start, end)


def merge_newest(old: tuple[Floats, Floats], new: tuple[Floats, Floats]) -> tuple[Floats, Floats]:
    """The samples of both, sorted by time; on equal times `new`'s."""
    ts = np.concatenate([new[0], old[0]])
    values = np.concatenate([new[1], old[1]])
    _, first = np.unique(ts, return_index=True)  # sorted times; the first occurrence is `new`'s
    return ts[first], values[first]
