"""SQLite's raw reads skip the series that fell silent before the range (`last_seen` is never older
than a series' newest sample): a live overview of a fleet in which one host still reports reads that
host, not every host it ever stored, with the same answer."""

from __future__ import annotations

from pathlib import Path

from vigil.adapters.store.sqlite import SqliteStore
from vigil.domain.records import Point

NOW = 1_764_028_800.0


def test_a_raw_read_queries_only_the_series_with_samples_since_its_start(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "v.sqlite3", retention_seconds=7 * 86400)
    for h in range(20):  # silent for the last hour
        store.put_samples(
            f"old-{h}",
            [Point(f"old-{h}", "cpu", (), NOW - 7200 + 60 * i, 0.1) for i in range(30)],
            None,
            NOW - 5400,
        )
    store.put_samples(
        "live", [Point("live", "cpu", (), NOW - 300 + 60 * i, 0.5) for i in range(5)], None, NOW
    )
    statements: list[str] = []
    store.db.conn().set_trace_callback(statements.append)
    recent = list(store.query_many(["cpu"], NOW - 600, NOW, now=NOW))
    one_metric = list(store.query_points("cpu", NOW - 600, NOW, now=NOW))
    store.db.conn().set_trace_callback(None)
    assert [(p.host, p.ts) for p in recent] == [("live", NOW - 300 + 60 * i) for i in range(5)]
    assert one_metric == recent
    assert sum("FROM samples WHERE series_id" in s for s in statements) == 2  # the live series, twice
    older = list(store.query_many(["cpu"], NOW - 7200, NOW, now=NOW))
    assert len(older) == 20 * 30 + 5  # a range reaching back to them still reads them
    store.close()
