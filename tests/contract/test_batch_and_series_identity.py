"""Identity in the `Store` contract, on SqliteStore and DynamoStore (moto): a retried batch is stored
once (client keys remembered 24 h whatever the timestamps; content only when every sample has a `ts`),
and distinct label sets stay distinct series whatever characters they hold."""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from vigil.adapters.store.sqlite import SqliteStore
from vigil.config import Config
from vigil.domain.errors import LimitExceeded
from vigil.domain.identity import series_key
from vigil.domain.models import Point
from vigil.services.ingest import check_cardinality

T0 = 1_764_190_000.0
MINUTE, HOUR = 60.0, 3600.0
RETENTION = 7 * 86400.0


def stamped(now: float, n: int = 3, metric: str = "m") -> list[Point]:
    """What the service makes of samples sent without `ts`: every one stamped with the receipt time."""
    return [Point("web-1", metric, (("i", str(i)),), now, float(i)) for i in range(n)]


def count(store: Any, metric: str = "m", now: float = T0 + 2 * 86400) -> int:
    return len(list(store.query_points(metric, T0 - HOUR, now, now=now)))


def test_a_batch_id_retried_minutes_and_hours_later_is_stored_once(store: Any) -> None:
    assert store.put_samples("web-1", stamped(T0), "agent-7", T0, timestamped=False) is True
    for later in (MINUTE, 5 * MINUTE, HOUR, 6 * HOUR, 23.9 * HOUR):
        retry = stamped(T0 + later)  # no ts: each retry is stamped with its own receipt time
        assert store.put_samples("web-1", retry, "agent-7", T0 + later, timestamped=False) is False
    assert count(store) == 3


def test_a_retry_that_lost_its_oldest_samples_is_still_the_same_batch(store: Any) -> None:
    points = [Point("web-1", "m", (), T0 + i * 50.0, float(i)) for i in range(6)]  # spans 5 minutes
    assert store.put_samples("web-1", points, "agent-8", T0 + 300) is True
    assert store.put_samples("web-1", points[3:], "agent-8", T0 + 2 * HOUR) is False


def test_a_batch_id_reused_with_entirely_other_timestamps_is_still_a_duplicate(store: Any) -> None:
    first = [Point("web-1", "m", (), T0 + i * 10.0, float(i)) for i in range(6)]
    assert store.put_samples("web-1", first, "agent-9", T0 + 60) is True
    for later in (MINUTE, HOUR, 20 * HOUR):  # other minutes, other values, explicit ts: same key
        other = [Point("web-1", "m", (), T0 + later + i * 10.0, 99.0) for i in range(6)]
        assert store.put_samples("web-1", other, "agent-9", T0 + later + 60) is False
    assert count(store) == 6


def agent_minute(start: float) -> list[Point]:
    """What `vigil agent` pushes each minute: 20 series x 6 samples, each with its own ts, no batch_id."""
    return [
        Point("web-1", f"system.m{j}", (("k", str(j % 3)),), start + 10.0 * i, round(j + i / 7, 4))
        for i in range(6)
        for j in range(20)
    ]


def test_an_agent_batch_retried_minutes_hours_and_days_later_is_stored_once(store: Any) -> None:
    batch = agent_minute(T0 + 5.5)
    assert store.put_samples("web-1", batch, None, T0 + 66, push_interval=60.0) is True
    for later in (MINUTE, 5 * MINUTE, HOUR, 6 * HOUR, 30 * HOUR, 3 * 86400):
        assert store.put_samples("web-1", batch, None, T0 + 66 + later, push_interval=60.0) is False
    assert len(list(store.query_points("system.m0", T0 - HOUR, T0 + 4 * 86400, now=T0 + 4 * 86400))) == 6


def test_a_batch_id_is_per_host(store: Any) -> None:
    other = [Point("web-2", "m", (), T0, 1.0)]
    assert store.put_samples("web-1", stamped(T0), "same-id", T0, timestamped=False) is True
    assert store.put_samples("web-2", other, "same-id", T0, timestamped=False) is True


def test_identical_content_with_explicit_timestamps_is_stored_once_hours_later(store: Any) -> None:
    points = [Point("web-1", "m", (), T0 + i, float(i)) for i in range(3)]
    assert store.put_samples("web-1", points, None, T0 + 10) is True
    assert store.put_samples("web-1", points, None, T0 + 10 + 3 * HOUR) is False
    assert count(store) == 3


def test_without_a_key_or_explicit_timestamps_every_send_is_stored(store: Any) -> None:
    assert store.put_samples("web-1", stamped(T0), None, T0, timestamped=False) is True
    assert store.put_samples("web-1", stamped(T0 + 1), None, T0 + 1, timestamped=False) is True
    assert count(store) == 6


def test_a_batch_id_outlives_a_raw_retention_shorter_than_a_day_on_sqlite(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "vigil.sqlite3", retention_seconds=HOUR)
    assert store.put_samples("web-1", stamped(T0), "agent-9", T0, timestamped=False) is True
    store.purge_expired(T0 + 20 * HOUR)  # the samples are gone; the key must not be
    later = T0 + 20 * HOUR
    assert store.put_samples("web-1", stamped(later), "agent-9", later, timestamped=False) is False
    store.close()


# -- series identity ---------------------------------------------------------------------------------

# Label values with the characters a naive `k=v,k=v` join confuses, and unicode.
VALUE = st.text(alphabet=st.sampled_from(list("ab1,=|\\é✓ ")), max_size=6)
LABELS = st.dictionaries(st.sampled_from(["a", "b", "a_b", "c.d"]), VALUE, max_size=3)
SERIES = st.tuples(st.sampled_from(["web-1", "web-2"]), st.sampled_from(["m", "m.x"]), LABELS)
_hosts = itertools.count()
# The collision a plain join made: both were `web-1|m|a=1,b=2`.
COLLIDED = (("web-1", "m", {"a": "1", "b": "2"}), ("web-1", "m", {"a": "1,b=2"}))
PROPERTY = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY
@given(a=SERIES, b=SERIES)
@example(*COLLIDED)
def test_two_distinct_series_round_trip_as_two_series_in_the_store(store: Any, a: Any, b: Any) -> None:
    """Property: distinct (host, metric, labels) never share an identity in either store."""
    run = next(_hosts)  # every example writes to hosts of its own: the store outlives examples
    (ha, ma, la), (hb, mb, lb) = ((f"{h}-{run}", m, tuple(sorted(lab.items()))) for h, m, lab in (a, b))
    distinct = (ha, ma, la) != (hb, mb, lb)
    store.put_samples(ha, [Point(ha, ma, la, T0, 1.0)], None, T0 + 1)
    store.put_samples(hb, [Point(hb, mb, lb, T0 + 1, 2.0)], None, T0 + 1)
    back = {
        (p.host, p.metric, p.labels, p.value)
        for m in {ma, mb}
        for p in store.query_points(m, T0 - 1, T0 + 2, hosts=sorted({ha, hb}), now=T0 + 2)
    }
    if distinct:
        assert back == {(ha, ma, la, 1.0), (hb, mb, lb, 2.0)}
        assert store.series_count(ha) + (store.series_count(hb) if hb != ha else 0) == 2
    else:
        assert {v for *_, v in back} == {1.0, 2.0}  # same series: both points, under their labels
        assert store.series_count(ha) == 1


def test_a_store_file_written_with_unescaped_series_keys_is_migrated_on_open(tmp_path: Path) -> None:
    """Files from before escaping keep their series; new pushes of a label set that used to collide
    get a series of their own instead of writing into another one."""
    path = tmp_path / "vigil.sqlite3"
    SqliteStore(path, RETENTION).close()
    old = sqlite3.connect(path)
    comma = {"a": "1,b=2"}
    with old:
        old.execute("PRAGMA user_version = 0")  # as written by the previous release
        old.execute(
            "INSERT INTO series(host, metric, labels, skey, first_seen, last_seen) VALUES (?,?,?,?,?,?)",
            ("web-1", "m", json.dumps(comma), "web-1|m|a=1,b=2", T0, T0),  # the old, ambiguous key
        )
        (sid,) = old.execute("SELECT id FROM series").fetchone()
        old.execute("INSERT INTO samples(series_id, ts, value) VALUES (?,?,?)", (sid, T0, 1.0))
    old.close()

    store = SqliteStore(path, RETENTION)
    assert store.known_series("web-1") == {series_key("web-1", "m", (("a", "1,b=2"),))}
    two = (("a", "1"), ("b", "2"))
    assert store.put_samples("web-1", [Point("web-1", "m", two, T0 + 1, 2.0)], None, T0 + 2) is True
    assert {(p.labels, p.value) for p in store.query_points("m", T0 - 1, T0 + 2, now=T0 + 2)} == {
        ((("a", "1,b=2"),), 1.0),
        (two, 2.0),
    }
    assert store.series_count("web-1") == 2
    store.close()


@PROPERTY
@given(a=LABELS, b=LABELS)
@example(COLLIDED[0][2], COLLIDED[1][2])
def test_the_cardinality_guard_counts_two_distinct_label_sets_as_two_series(
    store: Any, a: Any, b: Any
) -> None:
    """Property: with room for one series per host, a second distinct label set is always refused."""
    host = f"guard-{next(_hosts)}"
    one = Config(max_series_per_host=1)
    first, second = (Point(host, "m", tuple(sorted(lab.items())), T0, 1.0) for lab in (a, b))
    check_cardinality(store, host, [first], one)
    store.put_samples(host, [first], None, T0 + 1)
    if first.labels != second.labels:
        with pytest.raises(LimitExceeded):
            check_cardinality(store, host, [second], one)
    else:
        check_cardinality(store, host, [second], one)


@PROPERTY
@given(sets=st.lists(LABELS, min_size=1, max_size=4, unique_by=lambda d: tuple(sorted(d.items()))))
@example([COLLIDED[0][2], COLLIDED[1][2]])
def test_the_cardinality_guard_counts_each_labels_true_values(store: Any, sets: list[dict[str, str]]) -> None:
    """Property: the per-label value limit counts the values as sent, not pieces of an escaped key."""
    host = f"values-{next(_hosts)}"
    points = [Point(host, "m", tuple(sorted(lab.items())), T0, 1.0) for lab in sets]
    values: dict[str, set[str]] = {}
    for lab in sets:
        for k, v in lab.items():
            values.setdefault(k, set()).add(v)
    most = max((len(v) for v in values.values()), default=0)
    check_cardinality(store, host, points, Config(max_label_values=most))
    if most:
        with pytest.raises(LimitExceeded):
            check_cardinality(store, host, points, Config(max_label_values=most - 1))


def test_the_migration_survives_a_new_key_that_is_another_rows_old_key(tmp_path: Path) -> None:
    path = tmp_path / "vigil.sqlite3"
    SqliteStore(path, RETENTION).close()
    old = sqlite3.connect(path)
    rows = [({"a": "1,b"}, "web-1|m|a=1,b"), ({"a": "1\\,b"}, "web-1|m|a=1\\,b")]  # A's new key = B's old
    with old:
        old.execute("PRAGMA user_version = 0")
        old.executemany(
            "INSERT INTO series(host, metric, labels, skey, first_seen, last_seen)"
            " VALUES ('web-1', 'm', ?, ?, 0, 0)",
            [(json.dumps(labels), key) for labels, key in rows],
        )
    old.close()
    store = SqliteStore(path, RETENTION)
    assert (
        store.known_series("web-1")
        == {series_key("web-1", "m", tuple(labels.items())) for labels, _ in rows}
        == {"web-1|m|a=1\\,b", "web-1|m|a=1\\\\\\,b"}
    )
    store.close()
