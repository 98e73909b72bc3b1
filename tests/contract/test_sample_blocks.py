"""Raw samples read the same whatever their storage layout: after the hourly storage job (which in
SQLite compacts the head into columnar blocks), after a late sample replaced a compacted one, after a
bulk load over head rows, and from a file written before blocks existed (migrated on open)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests.contract.conftest import RETENTION
from vigil.adapters.store.sqlite import SCHEMA_VERSION, SqliteStore
from vigil.capabilities import SummaryStore
from vigil.domain.models import Point, SeriesBlock

T0 = 1_764_007_200.0  # a block boundary (2 h)
VALUES = [0.1, 1e300, -1e300, 123456.789, 5e-324, 42.0, -7.25]


def load(store: Any, host: str, hours: int = 6) -> list[Point]:
    points = [
        Point(host, "cpu", (("core", str(c)),), T0 + i * 60.0 + c, VALUES[(i + c) % len(VALUES)])
        for i in range(hours * 60)
        for c in range(2)
    ]
    for a in range(0, len(points), 500):
        store.put_samples(host, points[a : a + 500], None, T0 + hours * 3600)
    return points


def reads(store: Any, host: str, now: float) -> dict[str, Any]:
    out: dict[str, Any] = {
        "points": [
            (p.host, p.labels, p.ts, p.value) for p in store.query_points("cpu", T0, T0 + 86400, now=now)
        ],
        "window": [(p.ts, p.value) for p in store.query_points("cpu", T0 + 3000, T0 + 9000.5, now=now)],
        "latest": sorted((p.labels, p.ts, p.value) for p in store.latest_points(["cpu"], T0)),
    }
    if isinstance(store, SummaryStore):
        found = store.summarise("cpu", "raw", T0, T0 + 86400, 600.0, [host], None, now)
        assert found is not None
        out["summary"] = sorted((r.labels, r.start, r.count, r.sum, r.min, r.max) for r in found)
    return out


def test_samples_read_back_the_same_after_the_hourly_storage_job(store: Any) -> None:
    points = load(store, "h1")
    now = T0 + 6 * 3600 + 60
    before = reads(store, "h1", now)
    assert len(before["points"]) == len(points)
    store.purge_expired(now + 2 * 3600)  # compacts every block that ended an hour before; expires nothing
    assert reads(store, "h1", now) == before


def test_a_late_sample_replaces_the_compacted_one_at_its_time(store: Any) -> None:
    load(store, "h2")
    store.purge_expired(T0 + 8 * 3600)
    late = Point("h2", "cpu", (("core", "0"),), T0 + 120.0, 99.5)
    store.put_samples("h2", [late], None, T0 + 8 * 3600)
    now = T0 + 8 * 3600
    got = [(p.ts, p.value) for p in store.query_points("cpu", T0, T0 + 300, labels={"core": "0"}, now=now)]
    assert got == [
        (T0, 0.1),
        (T0 + 60, 1e300),
        (T0 + 120, 99.5),
        (T0 + 180, 123456.789),
        (T0 + 240, 5e-324),
        (T0 + 300, 42.0),
    ]
    store.purge_expired(T0 + 9 * 3600)  # the late sample is merged into its block
    again = [(p.ts, p.value) for p in store.query_points("cpu", T0, T0 + 300, labels={"core": "0"}, now=now)]
    assert again == got


def test_a_bulk_load_replaces_head_samples_at_the_same_times(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "vigil.sqlite3", RETENTION)
    store.put_samples(
        "h3", [Point("h3", "m", (), T0 + 60, 1.0), Point("h3", "m", (), T0 + 90, 2.0)], None, T0
    )
    store.put_series_bulk([SeriesBlock("h3", "m", (), [T0, T0 + 60, T0 + 120], [7.0, 8.0, 9.0])], T0 + 200)
    got = [(p.ts, p.value) for p in store.query_points("m", T0, T0 + 200, now=T0 + 200)]
    assert got == [(T0, 7.0), (T0 + 60, 8.0), (T0 + 90, 2.0), (T0 + 120, 9.0)]
    store.close()


def test_a_store_file_from_before_blocks_reads_back_identically_before_and_after_compaction(
    tmp_path: Path,
) -> None:
    path = tmp_path / "vigil.sqlite3"
    old_store = SqliteStore(path, RETENTION)
    load(old_store, "h4")
    now = T0 + 6 * 3600 + 60
    before = reads(old_store, "h4", now)
    old_store.close()
    old = sqlite3.connect(path)
    with old:  # as the previous release left it: rows in `samples`, no `blocks` table
        assert old.execute("SELECT count(*) FROM blocks").fetchone() == (0,)
        old.execute("DROP TABLE blocks")
        old.execute("PRAGMA user_version = 1")
    old.close()
    store = SqliteStore(path, RETENTION)
    conn = store._conn()
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert reads(store, "h4", now) == before  # the old rows are the head
    store.purge_expired(T0 + 9 * 3600)  # the storage job compacts them
    assert conn.execute("SELECT count(*) FROM samples").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM blocks").fetchone()[0] == 2 * 3  # 2 series x 3 blocks
    assert reads(store, "h4", now) == before
    store.close()
