"""The rollup job split across shards (the jobs function's targets in AWS, `vigil.api.scheduled`):
together the shards write exactly what one unsharded run writes, each host once; the shared watermark
moves only when every shard has passed the hour; a retried shard changes nothing. On SqliteStore and
DynamoStore (moto), where the per-host reads also run concurrently (`fanout`)."""

from __future__ import annotations

from typing import Any

from vigil.adapters.store.sqlite import SqliteStore
from vigil.domain.models import Point
from vigil.domain.rollups import Rollup
from vigil.domain.shards import Shard
from vigil.services.rollups import (
    STATE_KIND,
    WATERMARK_ID,
    advance_watermark,
    note_late_samples,
    rollups_due,
    run_rollups,
)

HOUR = 3600.0
T0 = 1_764_028_800.0  # a UTC midnight
HOSTS = [f"web-{i}" for i in range(12)]


def load(store: Any, now: float) -> None:
    for n, host in enumerate(HOSTS):
        points = [Point(host, "cpu", (), T0 + 60 * m, float(n + m)) for m in range(150)]
        store.put_samples(host, points, None, now)


def hourly(store: Any, now: float) -> list[tuple[str, float, int, float]]:
    rows = store.query_rollups("cpu", "1h", T0, now, now=now)
    return sorted((r.host, r.start, r.count, r.sum) for r in rows)


def daily(store: Any, now: float) -> list[Rollup]:
    return sorted(store.query_rollups("cpu", "1d", T0, now, now=now), key=lambda r: r.host)


def test_three_shards_write_what_one_run_writes_and_each_host_once(store: Any, retention: float) -> None:
    now = T0 + 3 * HOUR + 60
    load(store, now)
    reports = [run_rollups(store, now, retention_seconds=retention, shard=Shard(i, 3)) for i in range(3)]
    assert sum(r["hosts"] for r in reports) == len(HOSTS)
    assert all(r["hosts"] > 0 for r in reports)  # 12 hosts over 3 shards: none is empty here
    sharded = hourly(store, now)
    assert len(sharded) == len(HOSTS) * 3 and {h for h, *_ in sharded} == set(HOSTS)
    assert [d.count for d in daily(store, now)] == [150] * len(HOSTS)
    whole = run_rollups(store, now + 1, retention_seconds=retention)  # the unsharded run, over the same data
    assert whole["hosts"] == len(HOSTS)
    assert hourly(store, now) == sharded


def test_the_watermark_moves_only_after_the_last_shard_has_passed_the_hour(
    store: Any, retention: float
) -> None:
    now = T0 + 3 * HOUR + 60
    load(store, now)
    store.put_doc(STATE_KIND, WATERMARK_ID, {"hour": T0 + 2 * HOUR, "ran_at": 0, "fine_from": T0})
    for i in (0, 1):
        run_rollups(store, now, retention_seconds=retention, shard=Shard(i, 3))
        assert store.get_doc(STATE_KIND, WATERMARK_ID)["hour"] == T0 + 2 * HOUR
    assert rollups_due(store, now, Shard(2, 3)) and not rollups_due(store, now, Shard(0, 3))
    run_rollups(store, now, retention_seconds=retention, shard=Shard(2, 3))
    assert store.get_doc(STATE_KIND, WATERMARK_ID)["hour"] == T0 + 3 * HOUR
    assert not rollups_due(store, now, Shard(2, 3))


def test_a_shard_with_nothing_due_still_moves_the_watermark_its_peers_earned(
    store: Any, retention: float
) -> None:
    now = T0 + 3 * HOUR + 60
    load(store, now)
    for i in range(2):  # both finish, yet say each ran before the other wrote its progress
        run_rollups(store, now, retention_seconds=retention, shard=Shard(i, 2))
    store.put_doc(STATE_KIND, WATERMARK_ID, {"hour": T0, "ran_at": 0, "fine_from": T0})
    assert advance_watermark(store, 2, now + 300) == T0 + 3 * HOUR
    assert store.get_doc(STATE_KIND, WATERMARK_ID)["hour"] == T0 + 3 * HOUR


def test_a_retried_shard_rewrites_the_same_rollups(store: Any, retention: float) -> None:
    now = T0 + 3 * HOUR + 60
    load(store, now)
    run_rollups(store, now, retention_seconds=retention, shard=Shard(1, 3))
    first = hourly(store, now)
    store.delete_doc(STATE_KIND, f"{WATERMARK_ID}.1-of-3")  # as if the run died before saving progress
    run_rollups(store, now + 120, retention_seconds=retention, shard=Shard(1, 3))
    assert hourly(store, now) == first
    assert all(d.count == 150 for d in daily(store, now))


def test_a_shard_clears_the_late_sample_markers_of_its_own_hosts_only(store: Any, retention: float) -> None:
    now = T0 + 3 * HOUR + 60
    load(store, now)
    later = T0 + 30 * HOUR
    for host in HOSTS:
        note_late_samples(store, host, [Point(host, "cpu", (), T0 + 30, 9.0)], later)
    shard = Shard(0, 2)
    run_rollups(store, later, retention_seconds=retention, shard=shard)
    left = {str(d["host"]) for d in store.list_docs("rollup_dirty")}
    assert left == {h for h in HOSTS if not shard.owns(h)}


def test_the_concurrent_reader_answers_as_the_sequential_one(store: Any) -> None:
    now = T0 + 3 * HOUR
    load(store, now)
    many = list(store.query_many(None, T0, now, now=now))
    if not isinstance(store, SqliteStore):  # DynamoStore: the same read, one Query after another
        assert store.read_concurrency > 1  # the store reads hosts concurrently by default
        store.read_concurrency = 1
        assert list(store.query_many(None, T0, now, now=now)) == many
        store.read_concurrency = 16
    assert len(many) == 150 * len(HOSTS) and {p.host for p in many} == set(HOSTS)


def test_a_listing_of_a_shards_hosts_holds_exactly_the_hosts_it_owns(store: Any) -> None:
    now = T0 + 3 * HOUR
    load(store, now)
    whole = {h.host: h.last_seen for h in store.list_hosts()}
    shard = Shard(1, 3)
    mine = store.list_hosts(only=shard.owns)
    assert [h.host for h in mine] == sorted(h for h in HOSTS if shard.owns(h))
    assert all(h.last_seen == whole[h.host] for h in mine)
    assert [h.host for h in store.list_hosts(limit=2, only=shard.owns)] == [h.host for h in mine][:2]
