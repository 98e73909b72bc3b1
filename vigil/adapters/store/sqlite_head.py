"""The packed head of `SqliteStore`'s raw samples: table `head_packs`, one row per series per stored
batch, whose body is the batch's samples of that series as two little-endian float64 runs (times
ascending and unique, then values). Ingest appends a row per series instead of a B-tree row per
sample (`samples`, one `INSERT` each, cost 3.4-4.1 µs a sample: docs/architecture.md, "Ingest").

Order is what makes a pack's sample win: a later pack (higher `id`, SQLite's rowid, which only grows
while the newest row exists) wins over an earlier one at the same time, every pack wins over a row of
`samples` (older files' rows, and histogram samples, which stay there) and over the columnar blocks
(`sqlite_blocks`). `take` hands a series' packs before a time to compaction (or all of them to a bulk
load) in that order; a pack that straddles the time keeps its `id` and loses the part taken, so what
remains is never made newer than it was. Must not import boto3 nor `vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Sequence
from itertools import islice
from operator import lt
from typing import Any

import numpy as np
import numpy.typing as npt

from vigil.adapters.store.sqlite_db import SqliteDatabase

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
HEAD_SCHEMA = """
CREATE TABLE IF NOT EXISTS head_packs (
  id INTEGER PRIMARY KEY, series_id INTEGER NOT NULL, first REAL NOT NULL, last REAL NOT NULL,
  n INTEGER NOT NULL, body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS head_packs_series ON head_packs(series_id, last);
"""
_LE_FLOAT64 = np.dtype("<f8")


def pack(
    ts: Sequence[float], values: Sequence[float], packed: bytes | None = None
) -> tuple[float, float, int, bytes]:
    """(first, last, n, body) of one series' samples; of equal times the last given wins, as it would
    have in one `INSERT OR REPLACE` after another. `packed`: the body already made (`SeriesSamples`:
    only for ascending, unique times)."""
    if packed is not None:
        return ts[0], ts[-1], len(ts), packed
    if not all(map(lt, ts, islice(ts, 1, None))):  # ascending and unique, checked at C speed
        latest = dict(zip(ts, values, strict=True))
        ts = sorted(latest)
        values = [latest[t] for t in ts]
    n = len(ts)
    return ts[0], ts[-1], n, struct.pack(f"<{2 * n}d", *ts, *values)


def unpack(body: bytes) -> tuple[Floats, Floats]:
    """(times, values) of a pack's body."""
    both = np.frombuffer(body, dtype=_LE_FLOAT64).astype(np.float64)
    half = len(both) // 2
    return both[:half], both[half:]


class HeadPacks:
    """The head's packs; reads use the database's connection, writes the caller's transaction."""

    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    def append(self, conn: sqlite3.Connection, rows: Sequence[tuple[int, bytes, float, float, int]]) -> None:
        """(series id, body, first, last, n) rows, in the caller's transaction, in this order."""
        conn.executemany("INSERT INTO head_packs(series_id, body, first, last, n) VALUES (?,?,?,?,?)", rows)

    def columns(
        self, marks: str, ids: Sequence[Any], start: float, end: float
    ) -> tuple[Ints, Floats, Floats, Ints]:
        """(series id, ts, value, pack id) of the packs' samples in [start, end] of the series chosen by
        `marks` (`?` placeholders for `ids`, or a subquery), unsorted."""
        rows = (
            self.db.conn()
            .execute(
                f"SELECT id, series_id, body FROM head_packs WHERE series_id IN ({marks})"
                " AND last >= ? AND first <= ?",
                [*ids, start, end],
            )
            .fetchall()
        )
        if not rows:
            return np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0, np.int64)
        pack_ids, sids, times, values = [], [], [], []
        for pid, sid, body in rows:
            ts, vs = unpack(body)
            pack_ids.append(np.full(len(ts), pid, dtype=np.int64))
            sids.append(np.full(len(ts), sid, dtype=np.int64))
            times.append(ts)
            values.append(vs)
        sid_col, ts_col = np.concatenate(sids), np.concatenate(times)
        value_col, pid_col = np.concatenate(values), np.concatenate(pack_ids)
        keep = (ts_col >= start) & (ts_col <= end)
        return sid_col[keep], ts_col[keep], value_col[keep], pid_col[keep]

    def newest(self, sid: int, since: float) -> tuple[float, float] | None:
        """(ts, value) of the series' newest sample in its packs at or after `since`, the latest
        pack's at that time."""
        rows = (
            self.db.conn()
            .execute(
                "SELECT body FROM head_packs WHERE series_id = ? AND last = (SELECT max(last) FROM"
                " head_packs WHERE series_id = ?) AND last >= ? ORDER BY id DESC LIMIT 1",
                (sid, sid, since),
            )
            .fetchone()
        )
        if rows is None:
            return None
        ts, values = unpack(rows[0])
        return float(ts[-1]), float(values[-1])

    def take(self, conn: sqlite3.Connection, sid: int, before: float | None = None) -> tuple[Floats, Floats]:
        """The series' pack samples older than `before` (all with None), merged (the latest pack's
        sample at each time), ascending; removed from the head in the caller's transaction. A pack
        with later samples keeps them, and its `id`."""
        rows = conn.execute(
            "SELECT id, body FROM head_packs WHERE series_id = ? AND first < ? ORDER BY id",
            (sid, np.inf if before is None else before),
        ).fetchall()
        if not rows:
            return np.empty(0), np.empty(0)
        times, values, order = [], [], []
        gone, kept = [], []
        for pid, body in rows:
            ts, vs = unpack(body)
            cut = len(ts) if before is None else int(np.searchsorted(ts, before))
            times.append(ts[:cut])
            values.append(vs[:cut])
            order.append(np.full(cut, -pid, dtype=np.int64))
            if cut == len(ts):
                gone.append((pid,))
            else:
                rest_ts, rest_vs = ts[cut:], vs[cut:]
                body = rest_ts.astype(_LE_FLOAT64).tobytes() + rest_vs.astype(_LE_FLOAT64).tobytes()
                kept.append((float(rest_ts[0]), len(rest_ts), body, pid))
        conn.executemany("DELETE FROM head_packs WHERE id = ?", gone)
        conn.executemany("UPDATE head_packs SET first = ?, n = ?, body = ? WHERE id = ?", kept)
        ts_col, value_col, rank = np.concatenate(times), np.concatenate(values), np.concatenate(order)
        idx = np.lexsort((rank, ts_col))  # by time, the latest pack first
        ts_col, value_col = ts_col[idx], value_col[idx]
        first = np.ones(len(ts_col), dtype=bool)
        first[1:] = ts_col[1:] != ts_col[:-1]
        return ts_col[first], value_col[first]

    def series_before(self, conn: sqlite3.Connection, cutoff: float, limit: int) -> list[int]:
        """Up to `limit` series with pack samples before `cutoff` (for compaction)."""
        rows = conn.execute(
            "SELECT DISTINCT series_id FROM head_packs WHERE first < ? LIMIT ?", (cutoff, limit)
        ).fetchall()
        return [int(sid) for (sid,) in rows]

    @staticmethod
    def purge(conn: sqlite3.Connection, cutoff: float) -> int:
        """Packs whose every sample is older than `cutoff`; returns how many samples went."""
        (n,) = conn.execute("SELECT total(n) FROM head_packs WHERE last < ?", (cutoff,)).fetchone()
        conn.execute("DELETE FROM head_packs WHERE last < ?", (cutoff,))
        return int(n)
