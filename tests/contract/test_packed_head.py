"""The SQLite store's packed head (one row per series per batch, `sqlite_head`) reads exactly as the
row-per-sample head did: the last write of a (series, time) wins everywhere — across batches, inside
one batch, over compacted blocks, over rows an older file left in `samples` — before and after the
storage job compacts it, and a bulk load still replaces what ingest stored at its times; batches of
columns store on every store as their points would."""

from __future__ import annotations

import sqlite3
import struct
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.contract.conftest import RETENTION
from vigil.adapters.store.sqlite import SCHEMA_VERSION, SqliteStore
from vigil.adapters.store.sqlite_head import HeadPacks, pack, unpack
from vigil.capabilities import put_series_batches
from vigil.domain.models import Point, SeriesBlock
from vigil.domain.series_batch import HostBatch, SeriesSamples

T0 = 1_764_007_200.0  # a block boundary (2 h)
NOW = T0 + 10 * 3600
HOSTS = ["h", "h", "h", "g"]  # series by host: a host's series share its packs
SERIES = [("cpu", ()), ("cpu", (("core", "1"),)), ("mem", ()), ("cpu", ())]
TIMES = st.sampled_from([T0 + 60.0 * i for i in range(0, 400, 7)])  # a few collide, some in each block
VALUES = st.sampled_from([0.0, -0.0, 1.5, 1e300, -7.25, 5e-324, 42.0])
SAMPLE = st.tuples(st.integers(0, len(SERIES) - 1), TIMES, VALUES)
STEP = st.one_of(
    st.tuples(st.just("put"), st.lists(SAMPLE, min_size=1, max_size=30)),
    st.tuples(st.just("compact"), st.integers(0, 10)),  # the storage job at T0 + k hours
    st.tuples(st.just("bulk"), st.integers(0, len(SERIES) - 1), st.lists(TIMES, min_size=1, max_size=8)),
    # one call of several hosts' batches, a series possibly sent twice in its host's batch; its series
    # packed by their decoder (remote-write's, whole JSON scrapes') or not
    st.tuples(
        st.just("batches"),
        st.lists(st.lists(SAMPLE, min_size=1, max_size=4), min_size=1, max_size=4),
        st.booleans(),
    ),
)


def every_read(store: SqliteStore) -> dict[str, Any]:
    """What readers see of the store: points, the array path (`raw_columns`), the latest values."""
    points = sorted(
        (p.host, p.metric, p.labels, p.ts, p.value)
        for p in store.query_many(None, T0 - 1, NOW, now=NOW)  # type: ignore[attr-defined]
    )
    series = store._series_rows(None, None, None)
    ids = [sid for sid, *_ in series]
    names = {sid: (host, metric, labels) for sid, host, metric, labels in series}
    columns = store.raw_columns(",".join("?" * len(ids)), ids, T0 - 1, NOW) if ids else None
    arrays = (
        sorted(
            (*names[int(s)], float(t), float(v))
            for s, t, v in zip(*columns, strict=True)  # type: ignore[misc]
        )
        if columns is not None
        else []
    )
    latest = sorted(
        (p.host, p.metric, p.labels, p.ts, p.value) for p in store.latest_points(["cpu", "mem"], T0)
    )
    return {"points": points, "arrays": arrays, "latest": latest, "by_host": store.latest_by_host("cpu", T0)}


SPANS = [(0, 399), (1, 6), (7, 7), (50, 120), (300, 310), (400, 500)]  # minutes after T0: miss, touch, cover
WINDOWS = [(T0 + 60.0 * a, T0 + 60.0 * b) for a, b in SPANS]


def assert_holds_agrees_with_the_decoded_head(store: SqliteStore) -> None:
    """`HeadPacks.holds` (directories first) says what decoding the packs (`columns`) says, for each
    series alone, all of them, and windows that miss, touch and cover the packs' runs."""
    ids = [sid for sid, *_ in store._series_rows(None, None, None)]
    for chosen in [[sid] for sid in ids] + [ids]:
        marks = ",".join("?" * len(chosen))
        for start, end in WINDOWS:
            decoded = len(store.head.columns(marks, chosen, start, end)[1]) > 0
            assert store.head.holds(marks, chosen, start, end) == decoded, (chosen, start, end)


def model_reads(model: dict[tuple[int, float], float]) -> dict[str, Any]:
    points = sorted((HOSTS[i], *SERIES[i], ts, v) for (i, ts), v in model.items())
    newest: dict[int, tuple[float, float]] = {}
    for (i, ts), v in model.items():
        if i not in newest or ts > newest[i][0]:
            newest[i] = (ts, v)
    latest = sorted((HOSTS[i], *SERIES[i], ts, v) for i, (ts, v) in newest.items())
    by_host = {}
    for host in sorted(set(HOSTS)):
        cpu = [v for i, (_, v) in sorted(newest.items()) if SERIES[i][0] == "cpu" and HOSTS[i] == host]
        if cpu:
            by_host[host] = sum(cpu) / len(cpu)
    return {"points": points, "arrays": points, "latest": latest, "by_host": by_host}


def _samples_of(batch: HostBatch) -> list[tuple[int, float, float]]:
    """(series index, ts, value) of a batch's samples, in the order sent."""
    index = {(h, *series): i for i, (h, series) in enumerate(zip(HOSTS, SERIES, strict=True))}
    return [
        (index[batch.host, s.metric, s.labels], ts, v)
        for s in batch.series
        for ts, v in zip(s.ts, s.values, strict=True)
    ]


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal, with -0.0 and 0.0 told apart (floats compare them equal)."""
    return repr(a) == repr(b)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(STEP, min_size=1, max_size=8))
def test_any_sequence_of_batches_compactions_and_bulk_loads_reads_as_last_write_wins(
    steps: list[tuple[Any, ...]],
) -> None:
    model: dict[tuple[int, float], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "vigil.sqlite3", RETENTION)
        for step in steps:
            if step[0] == "put":
                for host in sorted({HOSTS[i] for i, _, _ in step[1]}):
                    mine = [(i, ts, v) for i, ts, v in step[1] if HOSTS[i] == host]
                    points = [Point(host, *SERIES[i], ts, v) for i, ts, v in mine]
                    store.put_samples(host, points, None, NOW, timestamped=False)
                    model.update(((i, ts), v) for i, ts, v in mine)
            elif step[0] == "batches":  # each sample a series of its own: a series may come twice
                batches = [
                    HostBatch(
                        host,
                        [
                            SeriesSamples(
                                *SERIES[i], [ts], [v], struct.pack("<2d", ts, v) if step[2] else None
                            )
                            for i, ts, v in run
                            if HOSTS[i] == host
                        ],
                        timestamped=False,  # no content key: the same samples again are stored again
                    )
                    for run in step[1]
                    for host in sorted({HOSTS[i] for i, _, _ in run})
                ]
                put_series_batches(store, batches, NOW)
                model.update(((i, ts), v) for b in batches for i, ts, v in _samples_of(b))
            elif step[0] == "compact":
                store.compact(T0 + step[1] * 3600.0)
            else:
                i, times = step[1], sorted(set(step[2]))
                values = [float(k) for k in range(len(times))]
                store.put_series_bulk([SeriesBlock(HOSTS[i], *SERIES[i], times, values)], NOW)
                model.update(((i, ts), v) for ts, v in zip(times, values, strict=True))
            assert same(every_read(store), model_reads(model))
            assert_holds_agrees_with_the_decoded_head(store)
        store.compact(NOW + 4 * 3600)  # everything into blocks: the same again
        assert store._conn().execute("SELECT count(*) FROM host_packs").fetchone() == (0,)
        assert same(every_read(store), model_reads(model))
        store.close()


@given(samples=st.lists(st.tuples(TIMES, VALUES), min_size=1, max_size=50))
def test_a_pack_decodes_to_its_samples_sorted_with_the_last_of_equal_times(
    samples: list[tuple[float, float]],
) -> None:
    first, last, n, body = pack([t for t, _ in samples], [v for _, v in samples])
    ts, values = unpack(body)
    want = dict(samples)
    assert repr(list(zip(ts.tolist(), values.tolist(), strict=True))) == repr(sorted(want.items()))
    assert (first, last, n) == (min(want), max(want), len(want))


def test_rows_an_older_file_left_in_samples_read_under_newer_packs_until_compacted(tmp_path: Path) -> None:
    path = tmp_path / "vigil.sqlite3"
    SqliteStore(path, RETENTION).close()
    old = sqlite3.connect(path)
    with old:  # as the previous release left it: a row per sample in `samples`, schema version 3
        old.execute("PRAGMA user_version = 3")
        old.execute(
            "INSERT INTO series(host, metric, labels, skey, first_seen, last_seen) VALUES (?,?,?,?,?,?)",
            ("h", "cpu", "{}", "h|cpu|", T0, T0 + 120),
        )
        (sid,) = old.execute("SELECT id FROM series").fetchone()
        old.executemany(
            "INSERT INTO samples(series_id, ts, value) VALUES (?,?,?)",
            [(sid, T0, 1.0), (sid, T0 + 60, 2.0), (sid, T0 + 120, 3.0)],
        )
    old.close()
    store = SqliteStore(path, RETENTION)
    assert store._conn().execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    store.put_samples("h", [Point("h", "cpu", (), T0 + 60, 20.0)], None, NOW)
    want = {
        "points": [
            ("h", "cpu", (), T0, 1.0),
            ("h", "cpu", (), T0 + 60, 20.0),
            ("h", "cpu", (), T0 + 120, 3.0),
        ]
    }
    want = {
        **want,
        "arrays": want["points"],
        "latest": [("h", "cpu", (), T0 + 120, 3.0)],
        "by_host": {"h": 3.0},
    }
    assert same(every_read(store), want)
    store.compact(NOW)
    assert store._conn().execute("SELECT count(*) FROM samples").fetchone() == (0,)
    assert same(every_read(store), want)
    store.close()


def test_batches_of_columns_store_each_host_once_as_their_points_would(store: Any) -> None:
    """`capabilities.put_series_batches`: SQLite's one transaction of packs and any other store's
    `put_samples` per host store the same samples; a replayed host is recognised, a new one stored."""
    web = HostBatch(
        "web-1", [SeriesSamples("cpu", (("core", "0"),), [T0 + 60, T0, T0 + 60], [1.0, 2.0, 3.0])]
    )
    db = HostBatch("db-1", [SeriesSamples("cpu", (), [T0], [4.0]), SeriesSamples("mem", (), [T0], [5.0])])
    assert put_series_batches(store, [web, db], NOW) == [True, True]
    again = HostBatch("db-2", [SeriesSamples("cpu", (), [T0], [6.0])])
    assert put_series_batches(store, [db, again], NOW) == [False, True]
    got = sorted(
        (p.host, p.metric, p.labels, p.ts, p.value) for p in store.query_many(None, T0 - 1, NOW, now=NOW)
    )
    assert got == [
        ("db-1", "cpu", (), T0, 4.0),
        ("db-1", "mem", (), T0, 5.0),
        ("db-2", "cpu", (), T0, 6.0),
        ("web-1", "cpu", (("core", "0"),), T0, 2.0),
        ("web-1", "cpu", (("core", "0"),), T0 + 60, 3.0),  # the later of two samples at one time
    ]
    assert {h.host for h in store.list_hosts()} == {"web-1", "db-1", "db-2"}


def test_a_call_of_many_hosts_refuses_a_key_repeated_within_it_and_records_each_push_in_order(
    store: Any,
) -> None:
    """The batched keys and cadence records (one read and one write per call, not per host) decide
    as host-by-host writes would: a batch repeated inside one call is stored once, and each host's
    cadence record sees its pushes one after another."""
    hosts = [f"h-{i:03d}" for i in range(210)]  # more than one read's worth of keys
    batches = [HostBatch(h, [SeriesSamples("cpu", (), [T0], [float(i)])]) for i, h in enumerate(hosts)]
    declared = HostBatch("h-000", [SeriesSamples("cpu", (), [T0 + 60], [9.0])], push_interval=30.0)
    assert put_series_batches(store, [*batches, batches[7], declared], NOW) == [True] * 210 + [False, True]
    assert put_series_batches(store, [batches[209]], NOW + 60) == [False]
    put_series_batches(store, [HostBatch("h-000", [SeriesSamples("cpu", (), [T0 + 120], [1.0])])], NOW + 60)
    cadence = {h.host: h.cadence for h in store.list_hosts()}
    assert len(cadence) == 210
    assert cadence["h-001"].last_push == NOW
    assert cadence["h-000"].last_push == NOW + 60
    assert cadence["h-000"].declared is None  # only the latest push's declaration counts


def test_a_call_of_many_hosts_moves_each_hosts_last_seen_forward_and_never_back(store: Any) -> None:
    """Every series a call stores is seen at the push's time (more ids than one statement's worth),
    and a push stamped earlier than the last one leaves it where it was."""
    hosts = [f"h-{i:03d}" for i in range(210)]
    first = [HostBatch(h, [SeriesSamples("cpu", (), [T0], [1.0])]) for h in hosts]
    put_series_batches(store, first, NOW)
    later = [HostBatch(h, [SeriesSamples("cpu", (), [T0 + 60], [2.0])]) for h in hosts[::2]]
    put_series_batches(store, later, NOW + 60)
    put_series_batches(
        store, [HostBatch(h, [SeriesSamples("cpu", (), [T0 + 120], [3.0])]) for h in hosts], NOW - 30
    )
    seen = {h.host: h.last_seen for h in store.list_hosts()}
    assert seen == {h: NOW + 60 if i % 2 == 0 else NOW for i, h in enumerate(hosts)}


def test_a_series_whose_newest_sample_is_ahead_of_the_push_is_seen_at_that_sample(tmp_path: Path) -> None:
    """SQLite keeps each series' `last_seen` at max(push time, newest sample): series of one call
    with different newest samples each get their own."""
    store = SqliteStore(tmp_path / "vigil.sqlite3", retention_seconds=RETENTION)
    try:
        ahead = HostBatch("ahead", [SeriesSamples("cpu", (), [NOW - 60, NOW + 300], [1.0, 2.0])])
        behind = HostBatch("behind", [SeriesSamples("cpu", (), [NOW - 60], [1.0])])
        put_series_batches(store, [ahead, behind], NOW)
        assert {h.host: h.last_seen for h in store.list_hosts()} == {"ahead": NOW + 300, "behind": NOW}
    finally:
        store.close()


def test_a_many_host_write_reads_its_keys_and_markers_through_their_indexes_not_a_whole_table_scan(
    tmp_path: Path,
) -> None:
    """The batch keys a call checks and the marker documents it versions are looked up by primary key:
    a scan of `batch_keys` or `docs` grows with every push ever stored (91 ms a request at 200 k keys)."""
    store = SqliteStore(tmp_path / "vigil.sqlite3", RETENTION)
    try:
        conn = store.db.conn()
        statements: list[str] = []
        conn.set_trace_callback(statements.append)
        put_series_batches(
            store, [HostBatch(f"h-{i}", [SeriesSamples("cpu", (), [T0], [1.0])]) for i in range(30)], NOW
        )
        store.put_docs([("fleet_dirty", str(int(T0) + 60 * i), {"minute": T0 + 60 * i}) for i in range(30)])
        conn.set_trace_callback(None)
        reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        plans = {s: [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {s}")] for s in reads}
        assert any("batch_keys" in s for s in plans) and any("docs" in s for s in plans)
        tables = {"batch_keys", "docs", "b", "d"}  # the statements' aliases too
        scans = {
            s[:80]: p
            for s, p in plans.items()
            if any(d.split()[:2] in (["SCAN", t] for t in tables) for d in p)
        }
        assert scans == {}
    finally:
        store.close()


def put_three_hosts_of_40_series(store: SqliteStore) -> None:
    """Hosts a, b and c, each with series m0..m39 of two samples (T0, T0 + 60), in the head."""
    batches = [
        HostBatch(host, [SeriesSamples(f"m{k}", (), [T0, T0 + 60], [float(k), k + 0.5]) for k in range(40)])
        for host in ("a", "b", "c")
    ]
    put_series_batches(store, batches, NOW)


def test_a_read_of_many_series_reads_each_table_and_decodes_their_hosts_packs_once_not_per_series(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """A host's packs hold every series of its batches: `query_many` over 3 hosts x 40 series reads
    the head once (it read the host's packs once per series: 120 decodes, the live overview of 100
    hosts ~2,000), and each table with one statement for all the series, not three per series, and
    still returns each series' own samples."""
    store = SqliteStore(tmp_path / "vigil.sqlite3", RETENTION)
    put_three_hosts_of_40_series(store)
    reads: list[int] = []
    runs_of = HeadPacks._runs_of
    monkeypatch.setattr(HeadPacks, "_runs_of", staticmethod(lambda *a: reads.append(1) or runs_of(*a)))
    statements: list[str] = []
    store._conn().set_trace_callback(statements.append)
    points = list(store.query_many(None, T0 - 1, NOW, now=NOW))
    store._conn().set_trace_callback(None)
    assert len(reads) == 1
    assert len(statements) < 10, statements  # 243 before (two per series, and the series lookups)
    assert sorted((p.host, p.metric, p.ts, p.value) for p in points) == sorted(
        (h, f"m{k}", T0 + d, k + d / 120) for h in "abc" for k in range(40) for d in (0.0, 60.0)
    )
    store.close()


def test_a_read_over_a_week_takes_its_series_in_groups_that_bound_the_samples_held_at_once(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """A long window reads fewer series together (~12 h of 500 series' samples at once): a 7-day
    `query_many` of 120 series reads the head in groups of 35 and returns the same points."""
    store = SqliteStore(tmp_path / "vigil.sqlite3", 8 * 86400.0)
    put_three_hosts_of_40_series(store)
    groups: list[int] = []
    runs_of = HeadPacks._runs_of
    monkeypatch.setattr(
        HeadPacks,
        "_runs_of",
        staticmethod(lambda conn, series, *a: groups.append(len(series)) or runs_of(conn, series, *a)),
    )
    points = list(store.query_many(None, NOW - 7 * 86400.0, NOW, now=NOW))
    assert groups == [35, 35, 35, 15]
    assert sorted((p.host, p.metric, p.ts, p.value) for p in points) == sorted(
        (h, f"m{k}", T0 + d, k + d / 120) for h in "abc" for k in range(40) for d in (0.0, 60.0)
    )
    store.close()
