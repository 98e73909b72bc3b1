"""Store contract for the fleet tier (fleet rollups, the latest value per host, the newest-sample time)
and the fleet job over it — every case against SqliteStore and DynamoStore (moto)."""

from __future__ import annotations

from typing import Any

import pytest

from vigil.domain import histograms
from vigil.domain.fleet import FLEET_HOST, fleet_hours, fleet_rollups
from vigil.domain.models import Point
from vigil.domain.rollups import Rollup
from vigil.services.fleet import DIRTY_KIND, SETTLE_SECONDS, marker_id, note_late_fleet, run_fleet
from vigil.services.rollups import clear_markers

HOUR = 3600.0
T0 = 1_764_028_800.0  # a UTC midnight
RETENTION = 7 * 86400.0


def pt(host: str, metric: str, value: float, ts: float, **labels: str) -> Point:
    return Point(host, metric, tuple(sorted(labels.items())), ts, value)


def ordered(rollups: Any) -> list[Rollup]:
    return sorted(rollups, key=lambda r: (r.metric, r.labels, r.resolution, r.start))


def push_minutes(store: Any, hosts: int, first: float, minutes: int) -> list[Point]:
    """Every host pushes one 60 s batch per minute: cpu per core, a latency histogram."""
    out = []
    for m in range(minutes):
        t = first + 60 * m
        for h in range(hosts):
            host = f"web-{h}"
            batch = [pt(host, "cpu", (h + 1) * 0.1 + m * 0.01, t + 10 * i, cpu=str(i % 2)) for i in range(6)]
            hist = histograms.from_values([0.01 * (h + 1), 0.2 + m])
            batch.append(Point(host, "lat", (("route", "/x"),), t + 30, None, hist))
            store.put_samples(host, batch, f"{host}-{m}", t + 60)
            out.extend(batch)
    return out


def test_fleet_records_replace_their_bucket_and_filter_by_metric_and_labels(store: Any) -> None:
    points = [pt("a", "cpu", 0.5, T0 + 5, cpu="0"), pt("b", "cpu", 0.7, T0 + 6, cpu="1")]
    points += [pt("a", "mem", 3.0, T0 + 7), pt("a", "cpu", 0.9, T0 + 65, cpu="0")]
    store.put_fleet(fleet_rollups(points), T0 + 200)
    assert ordered(store.query_fleet("cpu", "1m", T0, T0 + 120, now=T0 + 200)) == ordered(
        fleet_rollups([p for p in points if p.metric == "cpu"])
    )
    only = list(store.query_fleet("cpu", "1m", T0, T0 + 120, {"cpu": "1"}, now=T0 + 200))
    assert [(r.host, r.labels, r.count, r.sum) for r in only] == [(FLEET_HOST, (("cpu", "1"),), 1, 0.7)]
    # a recomputed minute replaces the whole bucket (its other records go), other buckets stay
    store.put_fleet(fleet_rollups([pt("a", "mem", 4.0, T0 + 8)]), T0 + 300)
    assert list(store.query_fleet("cpu", "1m", T0, T0 + 59, now=T0 + 300)) == []
    assert [r.sum for r in store.query_fleet("mem", "1m", T0, T0 + 120, now=T0 + 300)] == [4.0]
    assert [r.sum for r in store.query_fleet("cpu", "1m", T0 + 60, T0 + 120, now=T0 + 300)] == [0.9]
    assert list(store.query_fleet("cpu", "1m", T0, T0 + 120, now=T0 + RETENTION + 200)) == []


def test_fleet_job_builds_each_settled_minute_from_every_host(store: Any) -> None:
    points = push_minutes(store, hosts=3, first=T0, minutes=10)
    now = T0 + 10 * 60 + SETTLE_SECONDS
    done = run_fleet(store, now, retention_seconds=RETENTION)
    assert done["minutes"] == 10 and done["until"] == T0 + 600
    for metric in ("cpu", "lat"):
        want = fleet_rollups([p for p in points if p.metric == metric])
        assert ordered(store.query_fleet(metric, "1m", T0, T0 + 600, now=now)) == ordered(want)
    # a second run at the same time builds nothing new
    assert run_fleet(store, now, retention_seconds=RETENTION)["minutes"] == 0


def test_fleet_job_builds_an_hour_once_its_last_minute_is_built(store: Any) -> None:
    points = push_minutes(store, hosts=2, first=T0 + HOUR - 300, minutes=10)
    run_fleet(store, T0 + HOUR - 300 + SETTLE_SECONDS, retention_seconds=RETENTION)  # the watermark
    now = T0 + HOUR + 300 + SETTLE_SECONDS
    assert run_fleet(store, now, retention_seconds=RETENTION)["hours"] == 1
    first_hour = [p for p in points if p.metric == "cpu" and p.ts < T0 + HOUR]
    got = ordered(store.query_fleet("cpu", "1h", T0, T0 + 2 * HOUR, now=now))
    assert got == ordered(fleet_hours(fleet_rollups(first_hour)))
    assert sum(r.count for r in got) == len(first_hour)


def test_a_late_batch_rebuilds_its_minute_on_the_next_run(store: Any) -> None:
    push_minutes(store, hosts=2, first=T0, minutes=5)
    now = T0 + 300 + SETTLE_SECONDS
    run_fleet(store, now, retention_seconds=RETENTION)
    late = [pt("web-9", "cpu", 5.0, T0 + 70, cpu="0")]
    store.put_samples("web-9", late, "late", now + 10)
    assert note_late_fleet(store, late, now + 10) == 1
    assert run_fleet(store, now + 20, retention_seconds=RETENTION)["markers_cleared"] == 1
    (minute,) = store.query_fleet("cpu", "1m", T0 + 60, T0 + 60, {"cpu": "0"}, now=now)
    assert minute.max == 5.0 and minute.count == 7  # 3 + 3 samples of the two hosts + the late one
    assert store.list_docs(DIRTY_KIND) == []


def test_a_late_batch_of_many_minutes_leaves_one_marker_per_run_and_rebuilds_each_minute(store: Any) -> None:
    push_minutes(store, hosts=2, first=T0, minutes=10)
    now = T0 + 600 + SETTLE_SECONDS
    run_fleet(store, now, retention_seconds=RETENTION)
    late_minutes = [2, 3, 4, 5, 6, 8]  # a run of five minutes, then one more
    late = [pt("web-9", "cpu", 5.0 + m, T0 + 60 * m + 5, cpu="0") for m in late_minutes]
    store.put_samples("web-9", late, "late", now + 10)
    assert note_late_fleet(store, late, now + 10) == 2
    assert sorted(d["minute"] for d in store.list_docs(DIRTY_KIND)) == [T0 + 120, T0 + 480]
    assert run_fleet(store, now + 20, retention_seconds=RETENTION)["markers_cleared"] == 2
    got = {r.start: r for r in store.query_fleet("cpu", "1m", T0, T0 + 600, {"cpu": "0"}, now=now + 20)}
    for m in range(10):
        minute = got[T0 + 60 * m]
        # 3 samples of each of the two hosts (cpu=0 every 20 s), and web-9's late one where it sent it
        assert minute.count == (7 if m in late_minutes else 6), m
        assert minute.max == (5.0 + m if m in late_minutes else 0.2 + m * 0.01), m
    assert store.list_docs(DIRTY_KIND) == []


def test_a_range_marker_re_marked_during_a_run_stays_for_the_next(store: Any) -> None:
    push_minutes(store, hosts=1, first=T0, minutes=10)
    now = T0 + 600 + SETTLE_SECONDS
    run_fleet(store, now, retention_seconds=RETENTION)
    late = [pt("web-9", "cpu", 1.0, T0 + 60 * m, cpu="0") for m in range(3)]
    note_late_fleet(store, late, now + 5)
    listed = store.list_docs(DIRTY_KIND)  # what a run reads before another late batch arrives
    note_late_fleet(store, late, now + 6)  # the same minutes again: the same marker, a newer version
    assert clear_markers(store, DIRTY_KIND, listed, marker_id) == 0
    assert [d["_version"] for d in store.list_docs(DIRTY_KIND)] == [2]


def test_late_minutes_before_the_tiers_start_are_cleared_without_being_built(store: Any) -> None:
    push_minutes(store, hosts=2, first=T0 + 6000, minutes=5)
    now = T0 + 6300 + SETTLE_SECONDS
    run_fleet(store, now, retention_seconds=RETENTION)  # the tier starts an hour back (`from`)
    backfill = [pt("web-0", "cpu", 5.0, T0 + 60 * m, cpu="0") for m in range(20)]  # before it
    store.put_samples("web-0", backfill, "backfill", now + 10)
    assert note_late_fleet(store, backfill, now + 10) == 1  # 20 consecutive minutes: one marker
    done = run_fleet(store, now + 20, retention_seconds=RETENTION)
    assert (done["minutes"], done["markers_cleared"]) == (0, 1)
    assert list(store.query_fleet("cpu", "1m", T0, T0 + 1200, now=now + 20)) == []
    assert store.list_docs(DIRTY_KIND) == []


def test_latest_by_host_gives_each_hosts_newest_value_after_a_fleet_run(store: Any) -> None:
    push_minutes(store, hosts=3, first=T0, minutes=3)
    store.put_samples("old", [pt("old", "cpu", 9.0, T0 - 3600, cpu="0")], None, T0 - 3000)
    now = T0 + 180 + SETTLE_SECONDS
    run_fleet(store, now, retention_seconds=RETENTION)
    got = store.latest_by_host("cpu", since=T0)
    # the newest sample of each cpu series (t + 40 is cpu=0, t + 50 is cpu=1), averaged per host
    assert got == {f"web-{h}": (h + 1) * 0.1 + 0.02 for h in range(3)}
    assert store.latest_by_host("cpu", since=T0, labels={"cpu": "1"}) == got
    assert store.latest_by_host("cpu", since=T0, labels={"cpu": "7"}) == {}
    assert store.latest_by_host("cpu", since=T0, labels={'c"pu': "1"}) == {}  # no such label can exist
    assert store.latest_by_host("cpu", since=now + 1) == {}
    lat = store.latest_by_host("lat", since=T0)
    assert set(lat) == {"web-0", "web-1", "web-2"} and lat["web-0"] == (0.01 + 2.2) / 2


def test_last_ingest_is_the_newest_batchs_receive_time(store: Any) -> None:
    assert store.last_ingest() is None
    store.put_samples("a", [pt("a", "cpu", 1.0, T0)], "1", T0 + 5)
    assert store.last_ingest() == T0 + 5
    store.put_samples("b", [pt("b", "cpu", 1.0, T0 + 100)], "2", T0 + 130)
    assert store.last_ingest() == T0 + 130


def test_the_fleet_job_folding_points_host_by_host_builds_the_same_minutes(
    store: Any, monkeypatch: Any
) -> None:
    import vigil.services.fleet as fleet_job

    monkeypatch.setattr(fleet_job, "FOLD_POINTS", 5)  # fold at nearly every host boundary
    points = push_minutes(store, hosts=4, first=T0, minutes=4)
    now = T0 + 4 * 60 + SETTLE_SECONDS
    run_fleet(store, now, retention_seconds=RETENTION)
    for metric in ("cpu", "lat"):
        want = fleet_rollups([p for p in points if p.metric == metric])
        got = ordered(store.query_fleet(metric, "1m", T0, T0 + 240, now=now))
        assert [(r.labels, r.start, r.count, r.min, r.max, r.histogram) for r in got] == [
            (r.labels, r.start, r.count, r.min, r.max, r.histogram) for r in ordered(want)
        ]
        assert [r.sum for r in got] == [pytest.approx(r.sum) for r in ordered(want)]
