"""The series ids of `SqliteStore`: table `series` (made by the store's schema) looked up through an
in-memory cache of committed rows, shared by ingest, bulk loads and the rollup job. Must not import
boto3 nor `vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable

from vigil.domain.identity import series_key

Labels = tuple[tuple[str, str], ...]
# A series' stored `last_seen` may lag its true value (its newest sample, or the newest push that
# sent it if later) by this much: ingest raises it only when it moved further (`_seen` of `SampleWriter`).
# So a reader asking for series seen since T picks the candidates seen since T minus this and keeps
# those with a sample at or after T; a purge takes only series older than its cutoff minus this; a
# host's own `host_pushes.seen` is exact (the host list, the newest ingest).
SEEN_SLACK_SECONDS = 300.0


class SeriesIds:
    """Series key → row id. Only ids of committed rows are cached (`remember` after the commit): a
    rolled-back insert must not be remembered. The dict only grows until `forget_all` (purge deleted
    rows), so readers share it without the lock."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self._lock = threading.Lock()

    def knows_all(self, keys: Iterable[str]) -> bool:
        return all(key in self.ids for key in keys)

    def id_for(
        self,
        conn: sqlite3.Connection,
        host: str,
        metric: str,
        labels: Labels,
        now: float,
        new_ids: dict[str, int],
    ) -> int:
        """The series' id, its row inserted (seen `now`) in the caller's transaction when new; new ids
        go to `new_ids` for `remember` once committed."""
        skey = series_key(host, metric, labels)
        sid = self.ids.get(skey) or new_ids.get(skey)
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

    def remember(self, new_ids: dict[str, int]) -> None:
        with self._lock:
            self.ids.update(new_ids)

    def forget_all(self) -> None:
        """After series rows were deleted (inside the deleting transaction: no writer can pick up a
        cached id of a deleted row)."""
        with self._lock:
            self.ids.clear()
