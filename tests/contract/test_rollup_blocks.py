"""Hourly and daily rollups in SQLite's columnar rollup blocks read back exactly as written: a
recomputed bucket replaces the old one whole, the array summaries equal the records' own numbers, and
a data dir written by the previous release (schema 2: one JSON row per rollup) is migrated on open —
in bounded transactions — into blocks that answer the same records and summaries."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import orjson

from tests.contract.conftest import RETENTION
from vigil.adapters.store.sqlite import SCHEMA_VERSION, SqliteStore
from vigil.adapters.store.sqlite_db import SqliteDatabase
from vigil.adapters.store.sqlite_rollup_blocks import ROLLUP_BLOCKS_SCHEMA, RollupBlocks
from vigil.domain import histograms
from vigil.domain.fleet import fleet_hours, fleet_rollups
from vigil.domain.models import Point
from vigil.domain.rollups import Rollup, coarsen, rollup_points

T0 = 1_764_028_800.0  # a UTC midnight
HOUR = 3600.0
NOW = T0 + 3 * 86400


def history(hosts: tuple[str, ...] = ("web-1", "web-2")) -> list[Point]:
    """Two days of two gauges per host, and one histogram series on web-1."""
    out = [
        Point(h, "cpu", (("core", str(c)),), T0 + i * 300.0 + c, round(((i * 7 + c) % 97) / 9.7, 3))
        for h in hosts
        for c in range(2)
        for i in range(2 * 288)
    ]
    out += [
        Point("web-1", "lat", (), T0 + i * 600.0, None, histograms.from_values([0.01 * (i % 9), 0.2]))
        for i in range(2 * 144)
    ]
    return out


def rollups_of(points: list[Point]) -> list[Rollup]:
    hourly = rollup_points(points, "1h")
    return hourly + coarsen(hourly, "1d")


def ordered(rollups: object) -> list[Rollup]:
    return sorted(rollups, key=lambda r: (r.series_key, r.resolution, r.start))  # type: ignore[attr-defined]


def reads(store: SqliteStore) -> dict[str, object]:
    return {
        "1h": ordered(store.query_rollups(None, "1h", T0, T0 + 2 * 86400, now=NOW)),
        "1d": ordered(store.query_rollups(None, "1d", T0, T0 + 2 * 86400, now=NOW)),
        "window": ordered(
            store.query_rollups("cpu", "1h", T0 + 5 * HOUR, T0 + 30 * HOUR, ["web-2"], now=NOW)
        ),
        "summary": sorted(
            (r.host, r.labels, r.start, r.count, r.sum, r.min, r.max)
            for r in store.summarise("cpu", "1h", T0, T0 + 2 * 86400, 4 * HOUR, now=NOW) or []
        ),
        "fleet": sorted(
            (r.start, r.count, r.sum, r.min, r.max)
            for r in store.summarise("cpu", "1h", T0, T0 + 2 * 86400, 4 * HOUR, now=NOW, fleet=True) or []
        ),
    }


def test_rollups_read_back_exactly_and_summaries_equal_the_records_numbers(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "vigil.sqlite3", RETENTION)
    written = rollups_of(history())
    store.put_rollups(written, NOW)
    got = reads(store)
    assert got["1h"] == ordered(r for r in written if r.resolution == "1h")
    assert got["1d"] == ordered(r for r in written if r.resolution == "1d")
    cpu = [r for r in written if r.metric == "cpu" and r.resolution == "1h"]
    naive: dict[tuple[str, tuple[tuple[str, str], ...], float], list[Rollup]] = {}
    for r in cpu:  # per (series, 4-hour bucket), records added in start order
        naive.setdefault((r.host, r.labels, r.start - r.start % (4 * HOUR)), []).append(r)
    assert got["summary"] == sorted(
        (h, labels, t, sum(r.count for r in rs), _total(rs), min(r.min for r in rs), max(r.max for r in rs))  # type: ignore[type-var]
        for (h, labels, t), rs in naive.items()
    )
    assert store.summarise("lat", "1h", T0, T0 + 86400, HOUR, now=NOW) is None  # histograms: general path
    store.close()


def _total(records: list[Rollup]) -> float:
    total = 0.0
    for r in records:
        total += r.sum
    return total


def test_a_recomputed_hour_replaces_the_hosts_old_records_of_that_hour_whole(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "vigil.sqlite3", RETENTION)
    store.put_rollups(rollups_of(history()), NOW)
    hour = T0 + 5 * HOUR
    redo = [Rollup("cpu", "web-1", (("core", "0"),), "1h", hour, 1, 9.0, 9.0, 9.0)]
    store.put_rollups(redo, NOW)  # core 1 and the histogram series had records in that hour: gone
    got = list(store.query_rollups(None, "1h", hour, hour, ["web-1"], now=NOW))
    assert got == redo
    assert len(list(store.query_rollups(None, "1h", hour, hour, ["web-2"], now=NOW))) == 2  # other host kept
    assert len(list(store.query_rollups(None, "1h", hour - HOUR, hour - HOUR, ["web-1"], now=NOW))) == 3
    store.close()


def schema_2_file(path: Path, rollups: list[Rollup]) -> None:
    """The previous release's layout: one row per hourly/daily rollup, its JSON in `body`, no
    `rollup_blocks` table, `user_version` 2."""
    store = SqliteStore(path, RETENTION)
    store.put_samples("web-1", history(("web-1",))[:1], None, NOW)  # the host's series rows
    ids = {}
    conn = store._conn()
    for r in rollups:
        conn.execute(
            "INSERT OR IGNORE INTO series(host, metric, labels, skey, first_seen, last_seen)"
            " VALUES (?,?,?,?,?,?)",
            (r.host, r.metric, orjson.dumps(dict(r.labels)).decode(), r.series_key, T0, NOW),
        )
        ids[r.series_key] = conn.execute("SELECT id FROM series WHERE skey = ?", (r.series_key,)).fetchone()[
            0
        ]
    store.close()
    old = sqlite3.connect(path)
    with old:
        old.execute("DROP TABLE rollup_blocks")
        old.executemany(
            "INSERT INTO rollups(series_id, res, start, count, sum, min, max, hist, body)"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (
                    ids[r.series_key],
                    r.resolution,
                    r.start,
                    r.count,
                    r.sum,
                    r.min,
                    r.max,
                    int(r.histogram is not None),
                    orjson.dumps(r.to_json()),
                )
                for r in rollups
            ],
        )
        old.execute("PRAGMA user_version = 2")
    old.close()


def test_a_schema_2_data_dir_is_migrated_on_open_and_answers_the_same(tmp_path: Path) -> None:
    written = rollups_of(history())
    reference = SqliteStore(tmp_path / "new.sqlite3", RETENTION)
    reference.put_rollups(written, NOW)
    expected = reads(reference)
    reference.close()
    path = tmp_path / "old.sqlite3"
    schema_2_file(path, written)
    store = SqliteStore(path, RETENTION)
    conn = store._conn()
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert conn.execute("SELECT count(*) FROM rollups WHERE res IN ('1h', '1d')").fetchone() == (0,)
    assert reads(store) == expected
    assert expected["1h"] == ordered(r for r in written if r.resolution == "1h")
    store.close()


def test_a_migration_in_small_transactions_moves_every_row_once(tmp_path: Path) -> None:
    written = rollups_of(history())
    path = tmp_path / "old.sqlite3"
    schema_2_file(path, written)
    store = SqliteStore(path, RETENTION)  # migrates
    migrated = reads(store)
    store.close()
    path2 = tmp_path / "old2.sqlite3"
    schema_2_file(path2, written)
    conn = sqlite3.connect(path2)
    conn.executescript(ROLLUP_BLOCKS_SCHEMA)
    conn.close()
    db = SqliteDatabase(path2)  # the file without the store's open (and its migration): steps of 7
    moved = RollupBlocks(db).migrate(rows_per_transaction=7)
    assert moved == len(written)
    db.close()
    store = SqliteStore(path2, RETENTION)
    assert reads(store) == migrated
    store.close()


def test_a_schema_2_fleet_table_is_moved_into_blocks_on_open_and_answers_the_same(tmp_path: Path) -> None:
    minutes = fleet_rollups(history())
    records = minutes + fleet_hours(minutes)
    reference = SqliteStore(tmp_path / "new.sqlite3", RETENTION)
    reference.put_fleet(records, NOW)
    expected = {res: list(reference.query_fleet(None, res, T0, NOW, now=NOW)) for res in ("1m", "1h")}
    reference.close()
    path = tmp_path / "old.sqlite3"
    SqliteStore(path, RETENTION).close()
    old = sqlite3.connect(path)
    with old:  # schema 2: one JSON row per fleet record
        old.execute(
            "CREATE TABLE fleet (res TEXT NOT NULL, metric TEXT NOT NULL, start REAL NOT NULL,"
            " labels TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY (res, metric, start, labels))"
            " WITHOUT ROWID"
        )
        rows = []
        for r in records:
            body = r.to_json()
            for field in ("metric", "host", "resolution"):
                del body[field]
            labels = json.dumps(dict(r.labels), sort_keys=True)
            rows.append((r.resolution, r.metric, r.start, labels, orjson.dumps(body)))
        old.executemany("INSERT INTO fleet VALUES (?,?,?,?,?)", rows)
        old.execute("PRAGMA user_version = 2")
    old.close()
    store = SqliteStore(path, RETENTION)
    conn = store._conn()
    assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'fleet'").fetchone() is None
    assert {res: list(store.query_fleet(None, res, T0, NOW, now=NOW)) for res in ("1m", "1h")} == expected
    assert len(expected["1m"]) == len(minutes) and expected["1h"]
    store.close()
