"""Batch keys on SQLite (`sqlite_batch_keys`, schema 7): filed by the hour of the batch's newest sample,
so one request's hosts share a B-tree neighbourhood, and still exact — a replay is refused whatever
hour it arrives in, a client key is one batch whatever it holds, a schema-6 file's keys keep refusing
their replays after the upgrade until they expire."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.contract.conftest import RETENTION
from vigil.adapters.store.sqlite import SCHEMA_VERSION, SqliteStore
from vigil.adapters.store.sqlite_batch_keys import CLIENT_KEY, LEGACY
from vigil.capabilities import put_series_batches
from vigil.domain.models import Point
from vigil.domain.series_batch import HostBatch, SeriesSamples

T0 = 1_764_007_200.0  # an hour boundary
NOW = T0 + 3 * 86400


def batch(host: str, times: list[float], value: float = 1.0, batch_id: str | None = None) -> HostBatch:
    return HostBatch(host, [SeriesSamples("cpu", (), times, [value] * len(times))], batch_id=batch_id)


def test_one_requests_hosts_are_filed_under_the_hour_of_their_newest_sample(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "vigil.sqlite3", RETENTION)
    try:
        request = [batch(f"h-{i:02}", [T0 + 3540, T0 + 3600]) for i in range(25)]
        assert put_series_batches(store, request, NOW) == [True] * 25
        rows = store._conn().execute("SELECT bucket, host FROM batch_keys").fetchall()
        # the newest sample (T0 + 1 h) decides the hour, for every host alike
        assert {bucket for bucket, _ in rows} == {int(T0 // 3600) + 1} and len(rows) == 25
    finally:
        store.close()


def test_a_replay_is_refused_later_and_a_client_key_is_one_batch_whatever_it_holds(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "vigil.sqlite3", RETENTION)
    try:
        first = [batch("a", [T0, T0 + 60]), batch("b", [T0], batch_id="push-7")]
        assert put_series_batches(store, first, NOW) == [True, True]
        # the same content an hour later, and other content under the same client key
        again = [batch("a", [T0, T0 + 60]), batch("b", [T0 + 7200], 9.0, batch_id="push-7")]
        assert put_series_batches(store, again, NOW + 3600) == [False, False]
        assert put_series_batches(store, [batch("a", [T0, T0 + 60], 2.0)], NOW) == [True]  # new content
        # `put_samples` files its keys the same way: its replay is refused too
        points = [Point("c", "cpu", (), T0 + 30, 1.0)]
        assert store.put_samples("c", points, None, NOW) is True
        assert store.put_samples("c", points, None, NOW + 60) is False
        buckets = dict(
            store._conn().execute("SELECT host, bucket FROM batch_keys WHERE host = 'b'").fetchall()
        )
        assert buckets == {"b": CLIENT_KEY}
    finally:
        store.close()


def test_a_schema_6_files_keys_refuse_their_replays_after_the_upgrade_until_they_expire(
    tmp_path: Path,
) -> None:
    path = tmp_path / "vigil.sqlite3"
    content, client = batch("a", [T0]), batch("b", [T0], batch_id="push-1")
    SqliteStore(path, RETENTION).close()
    old = sqlite3.connect(path)
    with old:
        old.execute("DROP TABLE batch_keys")
        old.execute(
            "CREATE TABLE batches (host TEXT NOT NULL, bkey TEXT NOT NULL, received_at REAL NOT NULL,"
            " PRIMARY KEY (host, bkey))"
        )
        rows = [("a", content.key, NOW - 60), ("b", client.key, NOW - 60)]
        old.executemany("INSERT INTO batches(host, bkey, received_at) VALUES (?,?,?)", rows)
        old.execute("PRAGMA user_version = 6")
    old.close()
    store = SqliteStore(path, RETENTION)
    try:
        conn = store._conn()
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,) == (7,)
        assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'batches'").fetchone() is None
        moved = dict(conn.execute("SELECT host, bucket FROM batch_keys").fetchall())
        assert moved == {"a": LEGACY, "b": CLIENT_KEY}
        assert put_series_batches(store, [content, client], NOW) == [False, False]
        assert put_series_batches(store, [batch("c", [T0])], NOW) == [True]
        # past the retention the moved keys are purged like any other, and the legacy look-up stops
        store.purge_expired(NOW + RETENTION + 1)
        assert conn.execute("SELECT count(*) FROM batch_keys WHERE bucket = ?", (LEGACY,)).fetchone() == (0,)
        assert put_series_batches(store, [content], NOW + RETENTION + 2) == [True]
    finally:
        store.close()


def test_a_thousand_host_call_beside_moved_keys_refuses_every_replay(tmp_path: Path) -> None:
    """More keys than one read holds (each content key asked twice while schema-6 keys remain)."""
    store = SqliteStore(tmp_path / "vigil.sqlite3", RETENTION)
    try:
        with store.db.write() as tx:
            tx.execute(
                "INSERT INTO batch_keys(bucket, host, bkey, received_at) VALUES (?,?,?,?)",
                (LEGACY, "old", "sha:0", NOW),
            )
        fleet = [batch(f"h-{i:04}", [T0 + 60]) for i in range(1000)]
        assert put_series_batches(store, fleet, NOW) == [True] * 1000
        assert put_series_batches(store, fleet, NOW + 60) == [False] * 1000
    finally:
        store.close()
