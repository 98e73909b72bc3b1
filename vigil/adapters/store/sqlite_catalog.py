"""The series catalogue of `SqliteStore`: table `series` (made by the store's schema) as readers see
it — the rows a query's filters choose, the host list with each host's cadence (`host_pushes`, kept
by ingest), the metric catalogue, a host's series — and the rows purge may drop. Ids of committed rows
are cached by `sqlite_series.SeriesIds`, shared with the writers. Must not import boto3 nor
`vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection, Sequence
from functools import lru_cache
from typing import Any

from vigil.adapters.store.sqlite_db import Database
from vigil.adapters.store.sqlite_head import HeadPacks
from vigil.adapters.store.sqlite_parts import SeriesRow
from vigil.adapters.store.sqlite_series import SEEN_SLACK_SECONDS, SeriesIds
from vigil.domain.cadence import Cadence
from vigil.domain.identity import series_key
from vigil.domain.records import HostInfo


@lru_cache(maxsize=4096)
def label_items(labels_json: str) -> tuple[tuple[str, str], ...]:
    """A series' labels as sorted pairs. Every host writes the same few label sets: a read of a
    metric over a fleet parsed the same JSON once per host (the live overview's tail, ~120 rows)."""
    return tuple(sorted(json.loads(labels_json).items()))


class SeriesCatalog:
    """Reads of table `series`; owned by `SqliteStore`, given the file and the series-id cache."""

    def __init__(self, db: Database, ids: SeriesIds) -> None:
        self.db = db
        self.ids = ids

    def rows(
        self,
        metrics: Sequence[str] | None,
        hosts: Sequence[str] | None,
        labels: dict[str, str] | None,
        since: float | None = None,
    ) -> list[SeriesRow]:
        """(id, host, metric, labels) of the series matching the filters; `since`: the candidates for
        a sample at or after it — every series with one, and those seen up to `SEEN_SLACK_SECONDS`
        before it (a stored `last_seen` is never older than a series' newest sample, and lags its
        true value by at most that); the caller reads their samples from `since` on."""
        sql = "SELECT id, host, metric, labels FROM series WHERE 1=1"
        args: list[Any] = []
        if since is not None:
            sql += " AND last_seen >= ?"
            args.append(since - SEEN_SLACK_SECONDS)
        if metrics is not None:
            sql += f" AND metric IN ({','.join('?' * len(metrics))})"
            args.extend(metrics)
        if hosts:
            sql += f" AND host IN ({','.join('?' * len(hosts))})"
            args.extend(hosts)
        out = []
        for sid, host, metric, labels_json in self.db.conn().execute(sql, args):
            items = label_items(labels_json)
            if labels and any(dict(items).get(k) != v for k, v in labels.items()):
                continue
            out.append((int(sid), host, metric, items))
        return out

    def list_hosts(
        self, after: str | None = None, limit: int | None = None, only: Callable[[str], bool] | None = None
    ) -> list[HostInfo]:
        rows = self.db.conn().execute(
            # a host's newest is its exact `seen` where its series' `last_seen` may lag (ingest)
            "SELECT s.host, min(s.first_seen), max(max(s.last_seen), coalesce(p.seen, -1e308)), count(*),"
            " p.last_push, p.gaps, p.declared"
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
        for metric, labels_json in self.db.conn().execute("SELECT DISTINCT metric, labels FROM series"):
            found.setdefault(metric, set()).update(json.loads(labels_json))
        return {m: sorted(keys) for m, keys in sorted(found.items())}

    def series_count(self, host: str) -> int:
        (n,) = self.db.conn().execute("SELECT count(*) FROM series WHERE host = ?", (host,)).fetchone()
        return int(n)

    def known_series(self, host: str, wanted: Collection[str] = ()) -> set[str]:
        # the ids cache holds only committed series (purge clears it): when it knows every wanted
        # key, that answers the guard without a query per batch
        if wanted and self.ids.knows_all(wanted):
            return set(wanted)
        return {r[0] for r in self.db.conn().execute("SELECT skey FROM series WHERE host = ?", (host,))}

    def purge(self, conn: sqlite3.Connection, cutoff: float) -> None:
        """Series rows nothing refers to any more (no sample, no rollup, not seen since `cutoff`: a
        stored `last_seen` older than it by `SEEN_SLACK_SECONDS`, what it may lag), in the caller's
        transaction: no writer can pick up a cached id of a deleted row."""
        unreferenced = conn.execute(
            "SELECT id, host FROM series WHERE last_seen < ?"
            " AND NOT EXISTS (SELECT 1 FROM samples WHERE series_id = series.id)"
            " AND NOT EXISTS (SELECT 1 FROM blocks WHERE series_id = series.id)"
            " AND NOT EXISTS (SELECT 1 FROM rollups WHERE series_id = series.id)"
            " AND NOT EXISTS (SELECT 1 FROM rollup_blocks WHERE series_id = series.id)",
            (cutoff - SEEN_SLACK_SECONDS,),
        ).fetchall()
        packed = HeadPacks.series_in_packs(conn, {host for _sid, host in unreferenced})
        gone = [(sid,) for sid, _host in unreferenced if sid not in packed]
        conn.executemany("DELETE FROM series WHERE id = ?", gone)
        if gone:
            self.ids.forget_all()

    @staticmethod
    def rekey(tx: sqlite3.Connection) -> None:
        """Schema version 1: series keys recomputed as `identity.series_key` (escaped) from each row's
        host, metric and labels; only rows whose labels hold `,` `=` `|` `\\` change."""
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
