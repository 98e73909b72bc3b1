"""A rollup catch-up longer than one invocation (the first fine-tier backfill of a large fleet, or the
job stopped for days): a run told it is out of time stops between hosts and saves where it stopped,
and the next runs finish the catch-up instead of starting it again — together writing exactly what
one uninterrupted run writes, each host once, the watermark moving only at the end. On SqliteStore and
DynamoStore (moto); through the jobs function's handler with a short Lambda deadline too."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from tests.contract.test_sharded_rollups import HOSTS, T0, daily, hourly, load
from vigil.domain.models import Point
from vigil.domain.shards import Shard
from vigil.services.rollups import STATE_KIND, WATERMARK_ID, note_late_samples, rollups_due, run_rollups

HOUR = 3600.0


def stop_after(hosts: int) -> Callable[[], bool]:
    """An `out_of_time` letting one run handle `hosts` hosts (asked before every host but the first)."""
    asked = 0

    def out_of_time() -> bool:
        nonlocal asked
        asked += 1
        return asked >= hosts

    return out_of_time


def from_scratch(store: Any, now: float, retention: float) -> list[Any]:
    """What one uninterrupted run over everything writes (its progress forgotten, so it recomputes all)."""
    store.delete_doc(STATE_KIND, WATERMARK_ID)
    run_rollups(store, now, retention_seconds=retention)
    return hourly(store, now)


def test_a_catch_up_stopped_every_five_hosts_finishes_over_three_runs_with_each_host_done_once(
    store: Any, retention: float
) -> None:
    now = T0 + 3 * HOUR + 60
    load(store, now)
    reports = []
    for n in range(3):
        assert rollups_due(store, now + 300 * n)
        reports.append(
            run_rollups(store, now + 300 * n, retention_seconds=retention, out_of_time=stop_after(5))
        )
        if n < 2:  # stopped: nothing settled yet, the job stays due
            assert reports[-1]["resume_after"] == sorted(HOSTS)[5 * n + 4]
            assert "hour" not in (store.get_doc(STATE_KIND, WATERMARK_ID) or {})
    assert [r["hosts"] for r in reports] == [5, 5, 2] and "resume_after" not in reports[-1]
    state = store.get_doc(STATE_KIND, WATERMARK_ID)
    assert state["hour"] == T0 + 3 * HOUR and "resume" not in state and state["fine_from"] <= T0
    assert not rollups_due(store, now + 600)
    resumed = hourly(store, now)
    assert len(resumed) == 3 * len(HOSTS)
    assert [d.count for d in daily(store, now)] == [150] * len(HOSTS)
    assert from_scratch(store, now + 900, retention) == resumed


def test_hosts_finished_before_the_hour_turned_still_get_the_samples_that_came_later(
    store: Any, retention: float
) -> None:
    early = [Point(h, "cpu", (), T0 + 60 * m, float(m)) for h in HOSTS for m in range(140)]
    for host in HOSTS:
        store.put_samples(host, [p for p in early if p.host == host], None, T0 + 140 * 60)
    first = run_rollups(store, T0 + 141 * 60, retention_seconds=retention, out_of_time=stop_after(5))
    assert first["resume_after"] == sorted(HOSTS)[4]
    for host in HOSTS:  # the rest of hour 2 arrives after the first hosts were rolled up
        store.put_samples(
            host,
            [Point(host, "cpu", (), T0 + 60 * m, float(m)) for m in range(140, 180)],
            None,
            T0 + 3 * HOUR,
        )
    now = T0 + 3 * HOUR + 60
    resumed = run_rollups(store, now, retention_seconds=retention)  # finishes the stopped run's window
    assert resumed["hosts"] == len(HOSTS) - 5 and "resume_after" not in resumed
    assert store.get_doc(STATE_KIND, WATERMARK_ID)["hour"] == T0 + 2 * HOUR and rollups_due(store, now)
    run_rollups(store, now + 300, retention_seconds=retention)  # then an ordinary run from there
    assert store.get_doc(STATE_KIND, WATERMARK_ID)["hour"] == T0 + 3 * HOUR
    assert [d.count for d in daily(store, now)] == [180] * len(HOSTS)
    assert {(h, s): c for h, s, c, _ in hourly(store, now)} == {
        (h, T0 + k * HOUR): 60 for h in HOSTS for k in range(3)
    }


def test_a_stopped_run_keeps_the_late_sample_markers_of_the_hosts_it_did_not_reach(
    store: Any, retention: float
) -> None:
    now = T0 + 3 * HOUR + 60
    load(store, now)
    run_rollups(store, now, retention_seconds=retention)  # settled up to hour 3
    later = T0 + 30 * HOUR
    for host in HOSTS:  # one late sample each, for hour 0 (long before the next run's window)
        store.put_samples(host, [Point(host, "cpu", (), T0 + 30, 1000.0)], None, later)
        note_late_samples(store, host, [Point(host, "cpu", (), T0 + 30, 1000.0)], later)
    run_rollups(store, later, retention_seconds=retention, out_of_time=stop_after(4))
    assert {str(d["host"]) for d in store.list_docs("rollup_dirty")} == set(sorted(HOSTS)[4:])
    run_rollups(store, later + 300, retention_seconds=retention)
    assert store.list_docs("rollup_dirty") == []
    counts = {(h, s): c for h, s, c, _ in hourly(store, later) if s == T0}
    assert counts == {(h, T0): 61 for h in HOSTS}


def test_a_shard_stopped_for_time_holds_the_shared_watermark_until_it_has_finished(
    store: Any, retention: float
) -> None:
    now = T0 + 3 * HOUR + 60
    load(store, now)
    slow, fast = Shard(0, 2), Shard(1, 2)
    run_rollups(store, now, retention_seconds=retention, shard=fast)
    owned = [h for h in HOSTS if slow.owns(h)]
    assert len(owned) > 2
    stopped = run_rollups(store, now, retention_seconds=retention, shard=slow, out_of_time=stop_after(2))
    assert stopped["hosts"] == 2 and rollups_due(store, now, slow)
    assert "hour" not in (store.get_doc(STATE_KIND, WATERMARK_ID) or {})
    run_rollups(store, now + 300, retention_seconds=retention, shard=slow)
    assert store.get_doc(STATE_KIND, WATERMARK_ID)["hour"] == math.floor(now / HOUR) * HOUR
    assert [d.count for d in daily(store, now)] == [150] * len(HOSTS)
