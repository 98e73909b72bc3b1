"""SQLite raises a series' stored `last_seen` only when it moved by more than `SEEN_SLACK_SECONDS`
(a series pushed every few seconds rewrote its row on every request), and every reader still answers
as if it were exact: the series readers take the candidates seen since their start less the slack and
keep those with samples, the host list and the newest ingest read the host's exact `seen`
(`host_pushes`), and a purge takes only series older than its cutoff less the slack. A file of schema
5 (no `host_pushes.seen`) gains the column on open."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.contract.conftest import RETENTION
from vigil.adapters.store.sqlite import SCHEMA_VERSION, SqliteStore
from vigil.adapters.store.sqlite_series import SEEN_SLACK_SECONDS
from vigil.capabilities import put_series_batches
from vigil.domain.records import Point
from vigil.domain.series_batch import HostBatch, SeriesSamples

NOW = 1_764_028_800.0


def _stored_last_seen(store: SqliteStore) -> dict[str, float]:
    rows = store._conn().execute("SELECT host, last_seen FROM series")
    return {host: last_seen for host, last_seen in rows}


def _push(store: SqliteStore, host: str, ts: float, value: float, now: float) -> None:
    put_series_batches(store, [HostBatch(host, [SeriesSamples("cpu", (), [ts], [value])])], now)


def test_a_series_pushed_again_within_the_slack_keeps_its_row_and_every_reader_answers_as_if_it_moved(
    tmp_path: Path,
) -> None:
    store = SqliteStore(tmp_path / "vigil.sqlite3", RETENTION)
    try:
        assert SEEN_SLACK_SECONDS == 300.0
        _push(store, "web", NOW - 60, 1.0, NOW)
        store.put_samples("db", [Point("db", "cpu", (), NOW - 60, 5.0)], None, NOW)
        _push(store, "web", NOW + 100, 2.0, NOW + 200)  # 200 s later: the row stays
        store.put_samples(
            "db", [Point("db", "cpu", (), NOW + 250, 6.0)], None, NOW + 200
        )  # ahead of the push
        assert _stored_last_seen(store) == {"web": NOW, "db": NOW}
        assert {h.host: h.last_seen for h in store.list_hosts()} == {"web": NOW + 200, "db": NOW + 250}
        assert store.last_ingest() == NOW + 250
        since = NOW + 50  # after both stored values, before both newest samples
        latest = sorted((p.host, p.ts, p.value) for p in store.latest_points(["cpu"], since))
        assert latest == [("db", NOW + 250, 6.0), ("web", NOW + 100, 2.0)]
        points = sorted(
            (p.host, p.ts, p.value) for p in store.query_many(["cpu"], since, NOW + 300, now=NOW + 300)
        )
        assert points == latest
        assert [(p.host, p.ts) for p in store.query_points("cpu", since, NOW + 300, now=NOW + 300)] == [
            ("db", NOW + 250),
            ("web", NOW + 100),
        ]
        assert store.latest_by_host("cpu", since) == {"db": 6.0, "web": 2.0}
        assert list(store.query_many(["cpu"], NOW + 260, NOW + 300, now=NOW + 300)) == []
        _push(store, "web", NOW + 500, 3.0, NOW + 600)  # further than the slack: written
        assert _stored_last_seen(store)["web"] == NOW + 600
    finally:
        store.close()


def test_a_purge_keeps_a_series_whose_stored_last_seen_lags_behind_the_cutoff_but_not_its_push(
    tmp_path: Path,
) -> None:
    """A series whose samples all expired, pushed last after the cutoff (its stored `last_seen`
    before it): kept, as when the row was exact; purged once its stored `last_seen` is the slack
    past the cutoff (up to 5 minutes after an exact row would have been, by an hourly job)."""
    store = SqliteStore(tmp_path / "vigil.sqlite3", RETENTION)
    try:
        old = NOW - RETENTION + 100  # samples that expire soon after the pushes
        _push(store, "web", old, 1.0, NOW)
        _push(store, "web", old + 50, 2.0, NOW + 200)
        _push(store, "keep", NOW + 5000, 1.0, NOW + 5000)  # another host, live throughout
        assert _stored_last_seen(store)["web"] == NOW
        store.purge_expired(NOW + RETENTION + 150)  # the cutoff: between the stored and the true
        assert {h.host: (h.series, h.last_seen) for h in store.list_hosts()}["web"] == (1, NOW + 200)
        store.purge_expired(NOW + RETENTION + SEEN_SLACK_SECONDS)
        assert [h.host for h in store.list_hosts()] == ["keep", "web"]
        store.purge_expired(NOW + RETENTION + SEEN_SLACK_SECONDS + 1)
        assert [h.host for h in store.list_hosts()] == ["keep"]
    finally:
        store.close()


def test_a_schema_5_file_gains_each_hosts_seen_and_reads_its_series_until_the_next_push(
    tmp_path: Path,
) -> None:
    path = tmp_path / "vigil.sqlite3"
    store = SqliteStore(path, RETENTION)
    _push(store, "web", NOW - 60, 1.0, NOW)
    store.close()
    old = sqlite3.connect(path)
    with old:
        old.execute("ALTER TABLE host_pushes DROP COLUMN seen")
        old.execute("PRAGMA user_version = 5")
    old.close()
    store = SqliteStore(path, RETENTION)
    try:
        assert store._conn().execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,) == (7,)
        assert store._conn().execute("SELECT host, seen FROM host_pushes").fetchall() == [("web", None)]
        assert [(h.host, h.last_seen) for h in store.list_hosts()] == [("web", NOW)]
        assert store.last_ingest() == NOW
        _push(store, "web", NOW + 100, 2.0, NOW + 200)
        assert [(h.host, h.last_seen) for h in store.list_hosts()] == [("web", NOW + 200)]
    finally:
        store.close()
