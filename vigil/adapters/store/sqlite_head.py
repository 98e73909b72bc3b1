"""The packed head of `SqliteStore`'s raw samples: table `host_packs`, one row per host per stored
batch (schema 5; schema 4 had a row per series per batch, `head_packs`, moved here by `migrate`).
A pack's `series` column lists its series as little-endian int64 (series id, sample count) pairs; its
body holds, in that order, each series' samples as two little-endian float64 runs (times ascending
and unique, then values). Ingest appends one row per host instead of a row per series (a 500-series
remote-write request: 25 rows and index entries instead of 500; docs/architecture.md, "Ingest,
seventh pass") or a B-tree row per sample (`samples`).

Order is what makes a pack's sample win: a later pack (higher `id`, SQLite's rowid, which only grows
while the newest row exists) wins over an earlier one at the same time, every pack wins over a row of
`samples` (older files' rows, and histogram samples, which stay there) and over the columnar blocks
(`sqlite_blocks`). `take` hands a host's packs before a time to compaction (or a bulk load's series,
all their samples) in that order; a pack that keeps samples keeps its `id`, so what remains is never
made newer than it was. Readers ask by series: a series' packs are its host's (index `(host,
last)`), and only the asked series' runs are read out of them. Must not import boto3 nor
`vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Collection, Sequence
from itertools import islice
from operator import lt
from typing import Any

import numpy as np
import numpy.typing as npt

from vigil.adapters.store.sqlite_db import SqliteDatabase
from vigil.domain.series_batch import SeriesSamples

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
HEAD_SCHEMA = """
CREATE TABLE IF NOT EXISTS host_packs (
  id INTEGER PRIMARY KEY, host TEXT NOT NULL, first REAL NOT NULL, last REAL NOT NULL,
  n INTEGER NOT NULL, series BLOB NOT NULL, body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS host_packs_host ON host_packs(host, last);
"""
_LE_FLOAT64 = np.dtype("<f8")
_LE_INT64 = np.dtype("<i8")
_HOSTS_PER_READ = 500  # hosts per read of their packs: parameters far under SQLite's limit
MIGRATE_PACKS = 20_000  # schema 4 packs moved per statement by `migrate`
Pack = tuple[str, float, float, int, bytes, bytes]  # host, first, last, n, series, body: a row to append


def pack(
    ts: Sequence[float], values: Sequence[float], packed: bytes | None = None
) -> tuple[float, float, int, bytes]:
    """(first, last, n, run) of one series' samples; of equal times the last given wins, as it would
    have in one `INSERT OR REPLACE` after another. `packed`: the run already made (`SeriesSamples`:
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
    """(times, values) of one series' run."""
    both = np.frombuffer(body, dtype=_LE_FLOAT64).astype(np.float64)
    half = len(both) // 2
    return both[:half], both[half:]


def host_pack(host: str, runs: Sequence[tuple[int, float, float, int, bytes]]) -> Pack:
    """The row of a host's (series id, first, last, n, run) runs, each series once."""
    directory = struct.pack(f"<{2 * len(runs)}q", *[x for sid, _lo, _hi, n, _b in runs for x in (sid, n)])
    first = min(r[1] for r in runs)
    last = max(r[2] for r in runs)
    return host, first, last, sum(r[3] for r in runs), directory, b"".join(r[4] for r in runs)


def packed_host_pack(host: str, sids: Sequence[int], series: Sequence[SeriesSamples]) -> Pack:
    """`host_pack` of series that each carry their `packed` run (distinct ids, times ascending)."""
    counts = [len(s.ts) for s in series]
    directory = np.empty(2 * len(sids), dtype=_LE_INT64)
    directory[0::2], directory[1::2] = sids, counts
    first = min(s.ts[0] for s in series)
    last = max(s.ts[-1] for s in series)
    body = b"".join([s.packed for s in series])  # type: ignore[misc]  # the caller checked: all packed
    return host, first, last, sum(counts), directory.tobytes(), body


class _Runs:
    """The series runs of many packs as flat arrays: per run its series, pack id and where its times
    start in `floats` (its values follow them), per sample — of the runs chosen — series, time, value
    and pack id. One numpy pass for all packs instead of Python per pack."""

    def __init__(self, rows: Sequence[tuple[int, bytes, bytes]], wanted: Collection[int] | None) -> None:
        directory = np.frombuffer(b"".join(r[1] for r in rows), dtype=_LE_INT64).reshape(-1, 2)
        self.floats = np.frombuffer(b"".join(r[2] for r in rows), dtype=_LE_FLOAT64).astype(np.float64)
        per_pack = np.array([len(r[1]) // 16 for r in rows], dtype=np.int64)
        sids, counts = directory[:, 0].astype(np.int64), directory[:, 1].astype(np.int64)
        self.run_pid = np.repeat(np.array([r[0] for r in rows], dtype=np.int64), per_pack)
        self.run_start = 2 * (np.cumsum(counts) - counts)
        chosen = (
            np.ones(len(sids), dtype=bool) if wanted is None else np.isin(sids, np.fromiter(wanted, np.int64))
        )
        self.run_sid, self.run_n = sids, counts
        self.chosen = chosen
        n = counts[chosen]
        at = np.repeat(self.run_start[chosen] - (np.cumsum(n) - n), n) + np.arange(
            int(n.sum()), dtype=np.int64
        )
        self.sid = np.repeat(sids[chosen], n)
        self.pid = np.repeat(self.run_pid[chosen], n)
        self.ts = self.floats[at]
        self.value = self.floats[at + np.repeat(n, n)]


def _pack_rows(
    conn: sqlite3.Connection, columns: str, series: dict[int, str], start: float, end: float
) -> list[Any]:
    """`columns` of the packs of `series`' hosts (id: host) that overlap [start, end]."""
    hosts = sorted(set(series.values()))
    rows: list[Any] = []
    for i in range(0, len(hosts), _HOSTS_PER_READ):
        part = hosts[i : i + _HOSTS_PER_READ]
        marks = ",".join("?" * len(part))
        sql = f"SELECT {columns} FROM host_packs WHERE host IN ({marks}) AND last >= ? AND first <= ?"
        rows += conn.execute(sql, [*part, start, end]).fetchall()
    return rows


class HeadPacks:
    """The head's packs; reads use the database's connection, writes the caller's transaction."""

    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    @staticmethod
    def append(conn: sqlite3.Connection, rows: Sequence[Pack]) -> None:
        """Host packs (`host_pack`), in the caller's transaction, in this order."""
        conn.executemany(
            "INSERT INTO host_packs(host, first, last, n, series, body) VALUES (?,?,?,?,?,?)", rows
        )

    def columns(
        self, marks: str, ids: Sequence[Any], start: float, end: float
    ) -> tuple[Ints, Floats, Floats, Ints]:
        """(series id, ts, value, pack id) of the packs' samples in [start, end] of the series chosen by
        `marks` (`?` placeholders for `ids`, or a subquery), unsorted."""
        conn = self.db.conn()
        chosen = dict(conn.execute(f"SELECT id, host FROM series WHERE id IN ({marks})", ids).fetchall())
        runs = self._runs_of(conn, chosen, start, end)
        if runs is None:
            return np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0, np.int64)
        keep = (runs.ts >= start) & (runs.ts <= end)
        return runs.sid[keep], runs.ts[keep], runs.value[keep], runs.pid[keep]

    def holds(self, marks: str, ids: Sequence[Any], start: float, end: float) -> bool:
        """Whether the packs hold a sample in [start, end] of the series chosen by `marks` (as
        `columns`). The packs' directories are read first: a body is decoded only when one lists a
        chosen series (a histogram metric's never do: its samples are rows of `samples`, and decoding
        100 hosts' packs to learn that was a third of the overview chart's request)."""
        conn = self.db.conn()
        chosen = dict(conn.execute(f"SELECT id, host FROM series WHERE id IN ({marks})", ids).fetchall())
        listed = b"".join(r[0] for r in _pack_rows(conn, "series", chosen, start, end))
        sids = np.frombuffer(listed, dtype=_LE_INT64)[::2]
        if not np.isin(sids, np.fromiter(chosen, np.int64)).any():
            return False
        runs = self._runs_of(conn, chosen, start, end)
        return runs is not None and bool(((runs.ts >= start) & (runs.ts <= end)).any())

    @staticmethod
    def _runs_of(conn: sqlite3.Connection, series: dict[int, str], start: float, end: float) -> _Runs | None:
        """The runs of `series` (id: host) in their hosts' packs that overlap [start, end]."""
        rows = _pack_rows(conn, "id, series, body", series, start, end)
        return _Runs(rows, series) if rows else None

    def newest(self, sid: int, since: float) -> tuple[float, float] | None:
        """(ts, value) of the series' newest sample in its packs at or after `since`, the latest
        pack's at that time."""
        row = self.db.conn().execute("SELECT host FROM series WHERE id = ?", (sid,)).fetchone()
        return None if row is None else self.newest_many({sid: row[0]}, since).get(sid)

    def newest_many(self, series: dict[int, str], since: float) -> dict[int, tuple[float, float]]:
        """`newest` of each series (id: host), with one read of their hosts' packs."""
        runs = self._runs_of(self.db.conn(), series, since, np.inf) if series else None
        if runs is None:
            return {}
        chosen = runs.chosen
        counts = runs.run_n[chosen]
        last_at = runs.run_start[chosen] + counts - 1
        last_ts, last_value = runs.floats[last_at], runs.floats[last_at + counts]
        sid, pid = runs.run_sid[chosen], runs.run_pid[chosen]
        keep = last_ts >= since
        sid, pid, last_ts, last_value = sid[keep], pid[keep], last_ts[keep], last_value[keep]
        order = np.lexsort((pid, last_ts, sid))  # per series the newest time, then the latest pack, last
        found = zip(sid[order].tolist(), last_ts[order].tolist(), last_value[order].tolist(), strict=True)
        return {s: (t, v) for s, t, v in found}

    def take(
        self,
        conn: sqlite3.Connection,
        host: str,
        before: float | None = None,
        sids: Collection[int] | None = None,
    ) -> dict[int, tuple[Floats, Floats]]:
        """The host's pack samples older than `before` (all with None) of `sids` (all with None),
        merged per series (the latest pack's sample at each time), ascending; removed from the head in
        the caller's transaction. A pack with other samples keeps them, and its `id`."""
        cutoff = np.inf if before is None else before
        sql = "SELECT id, series, body FROM host_packs WHERE host = ? AND first < ? ORDER BY id"
        rows = conn.execute(sql, (host, cutoff)).fetchall()
        if not rows:
            return {}
        runs = _Runs(rows, None)
        taken = runs.ts < cutoff
        if sids is not None:
            taken &= np.isin(runs.sid, np.fromiter(sids, np.int64))
        self._rewrite(conn, rows, runs, taken)
        sid, ts, value, rank = runs.sid[taken], runs.ts[taken], runs.value[taken], -runs.pid[taken]
        idx = np.lexsort((rank, ts, sid))  # by series and time, the latest pack first
        sid, ts, value = sid[idx], ts[idx], value[idx]
        first = np.ones(len(ts), dtype=bool)
        first[1:] = (ts[1:] != ts[:-1]) | (sid[1:] != sid[:-1])
        sid, ts, value = sid[first], ts[first], value[first]
        cuts = (np.flatnonzero(np.diff(sid)) + 1).tolist()
        return {
            int(sid[a]): (ts[a:b], value[a:b])
            for a, b in zip([0, *cuts], [*cuts, len(sid)], strict=True)
            if b > a
        }

    @staticmethod
    def _rewrite(
        conn: sqlite3.Connection, rows: Sequence[tuple[int, bytes, bytes]], runs: _Runs, taken: Any
    ) -> None:
        """Each pack without its `taken` samples (`runs` of all `rows`, none left out): deleted when
        none is left, else rewritten in place with what is left, in the same order."""
        runs_per_pack = np.array([len(r[1]) // 16 for r in rows], dtype=np.int64)
        run_pack = np.repeat(np.arange(len(rows)), runs_per_pack)
        run_of_sample = np.repeat(np.arange(len(runs.run_sid)), runs.run_n)
        left = np.flatnonzero(~taken)
        rest = np.bincount(run_of_sample[left], minlength=len(runs.run_sid))  # samples left per run
        before = np.cumsum(rest) - rest
        run_l = run_of_sample[left]
        j = np.arange(len(left)) - before[run_l]  # place in its run
        out = np.empty(2 * len(left), dtype=_LE_FLOAT64)
        out[2 * before[run_l] + j] = runs.ts[left]
        out[2 * before[run_l] + rest[run_l] + j] = runs.value[left]
        body = out.tobytes()
        pack_left = np.bincount(run_pack, weights=rest, minlength=len(rows))
        pack_taken = np.bincount(run_pack[run_of_sample[taken]], minlength=len(rows))
        first_run = np.cumsum(runs_per_pack) - runs_per_pack
        gone, kept = [], []
        for p in np.flatnonzero(pack_taken).tolist():
            if pack_left[p] == 0:
                gone.append((rows[p][0],))
                continue
            mine = np.arange(first_run[p], first_run[p] + runs_per_pack[p])
            mine = mine[rest[mine] > 0]
            starts, counts = 2 * before[mine], rest[mine]
            firsts, lasts = out[starts], out[starts + counts - 1]
            directory = np.stack([runs.run_sid[mine], counts], axis=1).astype(_LE_INT64).tobytes()
            lo, hi = 16 * int(before[mine[0]]), 16 * int(before[mine[-1]] + counts[-1])
            kept.append(
                (
                    float(firsts.min()),
                    float(lasts.max()),
                    int(counts.sum()),
                    directory,
                    body[lo:hi],
                    rows[p][0],
                )
            )
        conn.executemany("DELETE FROM host_packs WHERE id = ?", gone)
        conn.executemany(
            "UPDATE host_packs SET first = ?, last = ?, n = ?, series = ?, body = ? WHERE id = ?", kept
        )

    @staticmethod
    def hosts_before(conn: sqlite3.Connection, cutoff: float, limit: int) -> list[str]:
        """Up to `limit` hosts with pack samples before `cutoff` (for compaction)."""
        rows = conn.execute("SELECT DISTINCT host FROM host_packs WHERE first < ? LIMIT ?", (cutoff, limit))
        return [str(host) for (host,) in rows.fetchall()]

    @staticmethod
    def series_in_packs(conn: sqlite3.Connection, hosts: Collection[str]) -> set[int]:
        """Every series with a sample in a pack of `hosts`."""
        found: set[int] = set()
        for host in hosts:
            for (directory,) in conn.execute("SELECT series FROM host_packs WHERE host = ?", (host,)):
                found.update(np.frombuffer(directory, dtype=_LE_INT64)[::2].tolist())
        return found

    @staticmethod
    def purge(conn: sqlite3.Connection, cutoff: float) -> int:
        """Packs whose every sample is older than `cutoff`; returns how many samples went."""
        (n,) = conn.execute("SELECT total(n) FROM host_packs WHERE last < ?", (cutoff,)).fetchone()
        conn.execute("DELETE FROM host_packs WHERE last < ?", (cutoff,))
        return int(n)

    @staticmethod
    def migrate(tx: sqlite3.Connection) -> None:
        """Schema 5: each of schema 4's per-series packs (`head_packs`) becomes a one-series host pack
        with the same `id` — so the order that decides which sample wins is kept — and the old table
        goes. In the caller's transaction."""
        if (
            tx.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'head_packs'").fetchone()
            is None
        ):
            return
        after = -1
        while True:
            rows = tx.execute(
                "SELECT p.id, s.host, p.first, p.last, p.n, p.series_id, p.body FROM head_packs p"
                " JOIN series s ON s.id = p.series_id WHERE p.id > ? ORDER BY p.id LIMIT ?",
                (after, MIGRATE_PACKS),
            ).fetchall()
            if not rows:
                break
            tx.executemany(
                "INSERT INTO host_packs(id, host, first, last, n, series, body) VALUES (?,?,?,?,?,?,?)",
                [
                    (pid, host, lo, hi, n, struct.pack("<2q", sid, n), body)
                    for pid, host, lo, hi, n, sid, body in rows
                ],
            )
            after = rows[-1][0]
        tx.execute("DROP TABLE head_packs")
