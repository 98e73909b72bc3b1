"""Hourly and daily rollups in SQLite as columnar blocks: table `rollup_blocks`, one row per (series,
resolution, block) — a UTC day of hourly records, 8 days of daily ones — whose body is the block's
`Rollup` records packed by `rollup_codec` (about 40 bytes an hourly record of a gauge, against ~700
for a JSON row; docs/data-model.md, "Rollup blocks"). A block stays under the largest row SQLite keeps
inside a page (~2,000 bytes at the 8 KiB pages new files get, `sqlite_db.PAGE_BYTES`): past it the
rest goes to an overflow page of its own, mostly empty.

`RollupBlocks` is a part `SqliteStore` owns and hands its `Database` (the connection and the write
transaction, a typed Protocol): writing merges records into the stored block (a record replaces the
one of the same start), reading decodes only the blocks that overlap the range, `summaries` reads
count/sum/min/max of many blocks as arrays without a record object, `migrate` moves the JSON rows of
a schema-2 file (table `rollups`) into blocks. The fine tier stays in `rollups` (`sqlite_fine`).
Must not import boto3 nor `vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import orjson

from vigil.adapters.store import rollup_codec
from vigil.adapters.store.columns import Floats, Ints
from vigil.adapters.store.sqlite_db import Database
from vigil.domain.rollups import Rollup

ROLLUP_BLOCKS_SCHEMA = """
CREATE TABLE IF NOT EXISTS rollup_blocks (
  series_id INTEGER NOT NULL, res TEXT NOT NULL, start REAL NOT NULL, last REAL NOT NULL,
  hist INTEGER NOT NULL, body BLOB NOT NULL, PRIMARY KEY (series_id, res, start)) WITHOUT ROWID;
"""
BLOCK_SECONDS = {"1h": 86400.0, "1d": 8 * 86400.0}
MIGRATE_ROWS = 50_000  # JSON rows moved per transaction by `migrate`
Labels = tuple[tuple[str, str], ...]


def block_start(start: float, resolution: str) -> float:
    """The start of the block holding the bucket starting at `start`."""
    return start - start % BLOCK_SECONDS[resolution]


class RollupBlocks:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- writing (in the caller's transaction) ---------------------------------------------------
    def rewrite(
        self,
        conn: sqlite3.Connection,
        sid: int,
        resolution: str,
        start: float,
        drop: Callable[[float], bool],
        add: Sequence[Rollup],
    ) -> None:
        """The block of (`sid`, `resolution`) starting at `start`: its stored records whose start
        `drop` says, and those with the start of a record of `add`, replaced by `add`'s."""
        row = conn.execute(
            "SELECT body FROM rollup_blocks WHERE series_id = ? AND res = ? AND start = ?",
            (sid, resolution, start),
        ).fetchone()
        new = {r.start for r in add}
        kept = [] if row is None else rollup_codec.decode(row[0], "", "", (), resolution)
        records = sorted(
            [r for r in kept if r.start not in new and not drop(r.start)] + list(add), key=lambda r: r.start
        )
        if not records:
            conn.execute(
                "DELETE FROM rollup_blocks WHERE series_id = ? AND res = ? AND start = ?",
                (sid, resolution, start),
            )
            return
        conn.execute(
            "INSERT OR REPLACE INTO rollup_blocks(series_id, res, start, last, hist, body)"
            " VALUES (?,?,?,?,?,?)",
            (
                sid,
                resolution,
                start,
                records[-1].start,
                int(any(r.histogram is not None for r in records)),
                rollup_codec.encode(records),
            ),
        )

    def put(self, conn: sqlite3.Connection, rollups: Iterable[tuple[str, int, Rollup]]) -> None:
        """(host, series id, record) triples, hourly or daily: each (host, resolution, bucket) present
        replaces that bucket of every series of the host (the rollup job recomputes whole buckets)."""
        groups: dict[tuple[str, str, float], dict[int, list[Rollup]]] = {}
        buckets: dict[tuple[str, str, float], set[float]] = {}
        for host, sid, r in rollups:
            key = (host, r.resolution, block_start(r.start, r.resolution))
            groups.setdefault(key, {}).setdefault(sid, []).append(r)
            buckets.setdefault(key, set()).add(r.start)
        for (host, res, start), by_sid in groups.items():
            gone = buckets[(host, res, start)]
            stored = conn.execute(
                "SELECT series_id FROM rollup_blocks WHERE res = ? AND start = ?"
                " AND series_id IN (SELECT id FROM series WHERE host = ?)",
                (res, start, host),
            ).fetchall()
            for sid in {*by_sid, *(s for (s,) in stored)}:
                self.rewrite(conn, sid, res, start, gone.__contains__, by_sid.get(sid, []))

    def purge(self, conn: sqlite3.Connection, resolution: str, before: float) -> None:
        """Blocks whose every bucket starts before `before`."""
        conn.execute("DELETE FROM rollup_blocks WHERE res = ? AND last < ?", (resolution, before))

    # -- reading ---------------------------------------------------------------------------------
    def records(
        self, sid: int, metric: str, host: str, labels: Labels, resolution: str, start: float, end: float
    ) -> list[Rollup]:
        """The series' records starting in [start, end], in start order."""
        rows = (
            self._db.conn()
            .execute(
                "SELECT body FROM rollup_blocks WHERE series_id = ? AND res = ? AND start >= ?"
                " AND start <= ? AND last >= ? ORDER BY start",
                (sid, resolution, block_start(start, resolution), end, start),
            )
            .fetchall()
        )
        return [
            r
            for (body,) in rows
            for r in rollup_codec.decode(body, metric, host, labels, resolution)
            if start <= r.start <= end
        ]

    def summaries(
        self, marks: str, ids: Sequence[Any], resolution: str, start: float, end: float
    ) -> tuple[Ints, Floats, Floats, Floats, Floats, Floats] | None:
        """(series id, start, count, sum, min, max) of the records starting in [start, end] of the
        series chosen by `marks` (`?` placeholders for `ids`, or a subquery), sorted by series then
        start; NaN for a None min/max. None when a histogram record is among the blocks read (their
        min/max need the buckets: the caller takes the general path)."""
        rows = (
            self._db.conn()
            .execute(
                f"SELECT series_id, hist, body FROM rollup_blocks WHERE series_id IN ({marks})"
                " AND res = ? AND start >= ? AND start <= ? AND last >= ? ORDER BY series_id, start",
                [*ids, resolution, block_start(start, resolution), end, start],
            )
            .fetchall()
        )
        if any(hist for _, hist, _ in rows):
            return None
        which, starts, count, total, lo, hi = rollup_codec.summaries([body for *_, body in rows])
        sid = np.array([s for s, _, _ in rows], dtype=np.int64)[which]
        keep = (starts >= start) & (starts <= end)
        return sid[keep], starts[keep], count[keep], total[keep], lo[keep], hi[keep]

    # -- a schema-2 file -------------------------------------------------------------------------
    def migrate(self, rows_per_transaction: int = MIGRATE_ROWS) -> int:
        """Move the hourly and daily JSON rows of table `rollups` into blocks, in transactions of
        whole (series, resolution) runs read, merged and deleted together (a crash between two
        loses nothing and moves nothing twice; opening again goes on); returns how many moved."""
        moved = 0
        while True:
            with self._db.write() as conn:
                rows = conn.execute(
                    "SELECT series_id, res, start, body FROM rollups WHERE res IN ('1h', '1d')"
                    " ORDER BY series_id, res, start LIMIT ?",
                    (rows_per_transaction,),
                ).fetchall()
                if not rows:
                    return moved
                blocks: dict[tuple[int, str, float], list[Rollup]] = {}
                for sid, res, start, body in rows:
                    blocks.setdefault((sid, res, block_start(start, res)), []).append(
                        Rollup.from_json(orjson.loads(body))
                    )
                for (sid, res, start), records in blocks.items():
                    self.rewrite(conn, sid, res, start, _nothing, records)
                conn.executemany(
                    "DELETE FROM rollups WHERE series_id = ? AND res = ? AND start = ?",
                    [(sid, res, start) for sid, res, start, _ in rows],
                )
                moved += len(rows)


def _nothing(start: float) -> bool:
    return False
