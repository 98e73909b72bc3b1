"""Schema 5 (one head pack per host and batch) opens a schema-4 file — whose head is one pack per series
per batch, table `head_packs` — without losing or reordering a sample: the old packs become host packs
with their ids, reads answer as before the upgrade, newer packs still win over them, compaction moves
them, and a batch stored before the upgrade is still a duplicate when it is replayed after it."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

from tests.contract.conftest import RETENTION
from tests.contract.test_packed_head import NOW, T0, same
from vigil.adapters.store.sqlite import SCHEMA_VERSION, SqliteStore
from vigil.capabilities import put_series_batches
from vigil.domain.series_batch import HostBatch, SeriesSamples

SCHEMA_4_HEAD = """
CREATE TABLE head_packs (
  id INTEGER PRIMARY KEY, series_id INTEGER NOT NULL, first REAL NOT NULL, last REAL NOT NULL,
  n INTEGER NOT NULL, body BLOB NOT NULL);
CREATE INDEX head_packs_series ON head_packs(series_id, last);
DROP TABLE batch_keys;
CREATE TABLE batches (
  host TEXT NOT NULL, bkey TEXT NOT NULL, received_at REAL NOT NULL, PRIMARY KEY (host, bkey));
"""


def _schema_4_file(path: Path, replayed: HostBatch) -> None:
    """A file as schema 4 left it: per-series packs of two hosts, a later pack overriding an earlier
    one's sample at T0 + 60, and the batch key of `replayed` (stored before the upgrade)."""
    SqliteStore(path, RETENTION).close()
    old = sqlite3.connect(path)
    with old:
        old.execute("DROP TABLE host_packs")
        old.executescript(SCHEMA_4_HEAD)
        old.execute("PRAGMA user_version = 4")
        for i, (host, metric) in enumerate([("web", "cpu"), ("web", "mem"), ("db", "cpu")], start=1):
            old.execute(
                "INSERT INTO series(id, host, metric, labels, skey, first_seen, last_seen)"
                " VALUES (?,?,?,?,?,?,?)",
                (i, host, metric, "{}", f"{host}|{metric}|", T0, T0 + 120),
            )

        def packed(sid: int, ts: list[float], values: list[float]) -> tuple[int, float, float, int, bytes]:
            return sid, ts[0], ts[-1], len(ts), struct.pack(f"<{2 * len(ts)}d", *ts, *values)

        old.executemany(
            "INSERT INTO head_packs(series_id, first, last, n, body) VALUES (?,?,?,?,?)",
            [
                packed(1, [T0, T0 + 60], [1.0, 2.0]),
                packed(2, [T0], [5.0]),
                packed(3, [T0 + 60], [7.0]),
                packed(1, [T0 + 60, T0 + 120], [20.0, 3.0]),  # later: wins at T0 + 60
            ],
        )
        old.execute(
            "INSERT INTO batches(host, bkey, received_at) VALUES (?,?,?)", ("db", replayed.key, NOW - 60)
        )
    old.close()


def _reads(store: SqliteStore) -> dict[str, object]:
    points = sorted((p.host, p.metric, p.ts, p.value) for p in store.query_many(None, T0 - 1, NOW, now=NOW))
    latest = sorted((p.host, p.metric, p.ts, p.value) for p in store.latest_points(["cpu", "mem"], T0))
    return {"points": points, "latest": latest, "by_host": store.latest_by_host("cpu", T0)}


def test_a_schema_4_head_reads_the_same_after_the_upgrade_and_newer_packs_still_win(tmp_path: Path) -> None:
    path = tmp_path / "vigil.sqlite3"
    replayed = HostBatch("db", [SeriesSamples("cpu", (), [T0 + 180], [8.0])])
    _schema_4_file(path, replayed)
    store = SqliteStore(path, RETENTION)
    try:
        conn = store._conn()
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,) == (7,)
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "head_packs" not in tables
        assert [pid for (pid,) in conn.execute("SELECT id FROM host_packs ORDER BY id")] == [1, 2, 3, 4]
        before = {
            "points": [
                ("db", "cpu", T0 + 60, 7.0),
                ("web", "cpu", T0, 1.0),
                ("web", "cpu", T0 + 60, 20.0),
                ("web", "cpu", T0 + 120, 3.0),
                ("web", "mem", T0, 5.0),
            ],
            "latest": [("db", "cpu", T0 + 60, 7.0), ("web", "cpu", T0 + 120, 3.0), ("web", "mem", T0, 5.0)],
            "by_host": {"db": 7.0, "web": 3.0},
        }
        assert same(_reads(store), before)
        # a replay of the batch stored before the upgrade is a duplicate; a new batch wins over old packs
        assert put_series_batches(store, [replayed], NOW) == [False]
        newer = HostBatch("web", [SeriesSamples("cpu", (), [T0 + 120], [30.0])])
        assert put_series_batches(store, [newer], NOW) == [True]
        after = dict(before, by_host={"db": 7.0, "web": 30.0})
        after["points"] = [*before["points"][:3], ("web", "cpu", T0 + 120, 30.0), before["points"][4]]
        after["latest"] = [before["latest"][0], ("web", "cpu", T0 + 120, 30.0), before["latest"][2]]
        assert same(_reads(store), after)
        store.compact(NOW + 4 * 3600)  # all of it into blocks, the same again
        assert conn.execute("SELECT count(*) FROM host_packs").fetchone() == (0,)
        assert same(_reads(store), after)
    finally:
        store.close()
