"""Store contract for history: rollups, `query_many`, SQL-side summaries and retention — every case
against SqliteStore and DynamoStore (moto)."""

from __future__ import annotations

from typing import Any

from vigil.capabilities import SummaryStore
from vigil.domain import histograms
from vigil.domain.models import Point
from vigil.domain.rollups import (
    FINE,
    ROLLUP_RETENTION_SECONDS,
    Rollup,
    coarsen,
    fine_rollups,
    is_plain_marker,
    rollup_points,
)
from vigil.domain.series import build_series, build_series_from_rollups
from vigil.services.rollups import run_rollups

HOUR = 3600.0
T0 = 1_764_028_800.0  # a UTC midnight
NOW = T0 + 2 * 86400


def pt(metric: str, value: float, ts: float, host: str = "web-1", **labels: str) -> Point:
    return Point(host, metric, tuple(sorted(labels.items())), ts, value)


def hourly(points: list[Point]) -> list[Rollup]:
    return rollup_points(points, "1h")


def known_host(store: Any, host: str = "web-1") -> None:
    """Rollups are computed from stored samples: their host is known to the store (DynamoDB lists
    hosts from its HOST items, written at ingest)."""
    store.put_samples(host, [pt("seen", 1.0, T0, host=host)], None, T0 + 1)


def ordered(rollups: Any) -> list[Rollup]:
    """Rollups hold a dict (the sketch), so they compare as sorted lists, not sets."""
    return sorted(rollups, key=lambda r: (r.series_key, r.resolution, r.start))


def test_rollups_round_trip_per_metric_host_and_label_filter(store: Any) -> None:
    hist = histograms.from_values([0.01, 0.2, 0.3])
    points = [
        pt("cpu", 0.5, T0 + 10, cpu="0"),
        pt("cpu", 0.7, T0 + 20, cpu="1"),
        pt("cpu", 0.9, T0 + HOUR + 5, cpu="0"),
        pt("cpu", 0.1, T0 + 30, host="web-2", cpu="0"),
        Point("web-1", "lat", (("route", "/x"),), T0 + 40, None, hist),
    ]
    for host in ("web-1", "web-2"):
        store.put_samples(host, [p for p in points if p.host == host], None, T0 + 100)
    rollups = hourly(points)
    store.put_rollups(rollups, NOW)
    got = ordered(store.query_rollups("cpu", "1h", T0, T0 + 2 * HOUR, now=NOW))
    assert got == ordered(r for r in rollups if r.metric == "cpu")
    assert {
        r.host for r in store.query_rollups("cpu", "1h", T0, T0 + 2 * HOUR, hosts=["web-2"], now=NOW)
    } == {"web-2"}
    assert {
        r.labels for r in store.query_rollups("cpu", "1h", T0, T0 + 2 * HOUR, labels={"cpu": "1"}, now=NOW)
    } == {(("cpu", "1"),)}
    assert [
        r.start for r in store.query_rollups("cpu", "1h", T0 + HOUR, T0 + 2 * HOUR, hosts=["web-1"], now=NOW)
    ] == [T0 + HOUR]
    (lat,) = store.query_rollups("lat", "1h", T0, T0 + HOUR, now=NOW)
    assert lat.histogram == hist
    assert list(store.query_rollups("cpu", "1d", T0, T0 + 2 * HOUR, now=NOW)) == []


def test_a_recomputed_host_bucket_replaces_the_old_one_whole_and_reruns_are_idempotent(store: Any) -> None:
    known_host(store)
    first = hourly([pt("cpu", 1.0, T0 + 10), pt("mem", 2.0, T0 + 10)])
    store.put_rollups(first, NOW)
    second = hourly([pt("cpu", 3.0, T0 + 10), pt("cpu", 5.0, T0 + 20)])  # mem's samples expired, say
    store.put_rollups(second, NOW)
    store.put_rollups(second, NOW)
    (cpu,) = store.query_rollups("cpu", "1h", T0, T0 + HOUR, now=NOW)
    assert (cpu.count, cpu.sum, cpu.min, cpu.max) == (2, 8.0, 3.0, 5.0)
    assert list(store.query_rollups("mem", "1h", T0, T0 + HOUR, now=NOW)) == []


def test_daily_rollups_are_kept_apart_from_hourly_ones(store: Any) -> None:
    known_host(store)
    points = [pt("cpu", float(i), T0 + i * 1800) for i in range(10)]
    hours = hourly(points)
    days = coarsen(hours, "1d")
    store.put_rollups(hours + days, NOW)
    (day,) = store.query_rollups("cpu", "1d", T0, T0 + 86399, now=NOW)
    assert (day.count, day.sum, day.resolution) == (10, 45.0, "1d")
    assert len(list(store.query_rollups("cpu", "1h", T0, T0 + 86399, now=NOW))) == 5


def test_rollups_older_than_400_days_are_neither_returned_nor_kept(store: Any) -> None:
    known_host(store)
    old = T0 - 10 * 86400
    store.put_rollups(hourly([pt("cpu", 1.0, old + 5)]) + hourly([pt("cpu", 2.0, T0 + 5)]), NOW)
    later = old + HOUR + ROLLUP_RETENTION_SECONDS + 1  # the old hour ended more than 400 days ago
    assert [r.sum for r in store.query_rollups("cpu", "1h", old - 1, T0 + HOUR, now=NOW)] == [1.0, 2.0]
    assert [r.sum for r in store.query_rollups("cpu", "1h", old - 1, T0 + HOUR, now=later)] == [2.0]
    store.purge_expired(later)
    assert [r.sum for r in store.query_rollups("cpu", "1h", old - 1, T0 + HOUR, now=later)] == [2.0]


def test_query_many_reads_several_metrics_or_all_of_them(store: Any) -> None:
    a, b, c = pt("cpu", 1.0, T0 + 10), pt("mem", 2.0, T0 + 20), pt("disk", 3.0, T0 + 30)
    d = pt("cpu", 4.0, T0 + 10, host="web-2")
    store.put_samples("web-1", [a, b, c], None, T0 + 60)
    store.put_samples("web-2", [d], None, T0 + 60)
    now = T0 + 120
    assert set(store.query_many(["cpu", "mem"], T0, T0 + 60, now=now)) == {a, b, d}
    assert set(store.query_many(None, T0, T0 + 60, hosts=["web-1"], now=now)) == {a, b, c}
    assert set(store.query_many(["cpu"], T0 + 15, T0 + 60, now=now)) == set()
    assert set(store.query_many(None, T0, T0 + 60, now=T0 + 8 * 86400)) == set()  # past raw retention


def test_sql_summaries_answer_exactly_like_raw_points_and_rollups(store: Any) -> None:
    if not isinstance(store, SummaryStore):
        return  # an optional capability: DynamoStore answers through the general path
    points = [pt("cpu", float(i % 7), T0 + i * 60, host=f"web-{i % 3}", cpu=str(i % 2)) for i in range(600)]
    for h in range(3):
        store.put_samples(f"web-{h}", [p for p in points if p.host == f"web-{h}"], None, T0 + 40000)
    now = T0 + 40000
    for agg in ("avg", "sum", "count", "min", "max"):
        for group_by in (None, [], ["host"]):
            summaries = store.summarise("cpu", "raw", T0, T0 + 36000, 600.0, now=now)
            assert summaries is not None
            got = build_series_from_rollups(
                summaries, start=T0, end=T0 + 36000, step=600.0, agg=agg, group_by=group_by
            )
            want = build_series(points, start=T0, end=T0 + 36000, step=600.0, agg=agg, group_by=group_by)
            assert got["series"] == want["series"]
    store.put_rollups(hourly(points), now)
    summed = store.summarise("cpu", "1h", T0, T0 + 36000, 7200.0, now=now)
    assert summed is not None
    got = build_series_from_rollups(summed, start=T0, end=T0 + 36000, step=7200.0, agg="avg", group_by=[])
    want = build_series(points, start=T0, end=T0 + 36000 + 3599, step=7200.0, agg="avg", group_by=[])
    assert got["series"][0]["values"] == want["series"][0]["values"]


def test_summaries_decline_histogram_metrics(store: Any) -> None:
    if not isinstance(store, SummaryStore):
        return
    hist = histograms.from_values([0.1, 0.2])
    store.put_samples("web-1", [Point("web-1", "lat", (), T0 + 5, None, hist)], None, T0 + 60)
    assert store.summarise("lat", "raw", T0, T0 + 60, 60.0, now=T0 + 60) is None


def test_purge_keeps_series_rows_while_rollups_refer_to_them(store: Any, retention: float) -> None:
    store.put_samples("web-1", [pt("cpu", 1.0, T0 + 5), pt("mem", 1.0, T0 + 5)], None, T0 + 10)
    store.put_rollups(hourly([pt("cpu", 1.0, T0 + 5)]), T0 + 10)
    store.purge_expired(T0 + retention + 86400)
    assert "cpu" in store.list_metrics()
    assert len(list(store.query_rollups("cpu", "1h", T0, T0 + HOUR, now=T0 + retention + 86400))) == 1


# -- the fine tier (5-minute rollups of histogram series, kept for the raw retention) -------------------


def lat(ts: float, *values: float, host: str = "web-1", bounds: tuple[float, ...] | None = None) -> Point:
    hist = histograms.from_values(values, bounds or histograms.DEFAULT_LATENCY_BOUNDS)
    return Point(host, "lat", (("route", "/x"),), ts, None, hist)


def test_fine_rollups_round_trip_per_five_minutes_with_plain_markers(store: Any) -> None:
    points = [
        lat(T0 + 10, 0.01, 0.2),
        lat(T0 + 290, 0.3),
        lat(T0 + 310, 0.05, bounds=(0.01, 0.1, 1.0)),  # other bounds in the same hour
        lat(T0 + HOUR + 5, 2.0),
        pt("cpu", 0.5, T0 + 20),
        pt("cpu", 0.7, T0 + HOUR + 20),
    ]
    store.put_samples("web-1", points, None, T0 + 100)
    fine = fine_rollups(points)
    store.put_rollups(fine, NOW)
    got = ordered(store.query_rollups("lat", FINE, T0, T0 + 2 * HOUR, now=NOW))
    assert got == ordered(r for r in fine if r.metric == "lat")
    assert [(r.start, r.count) for r in got] == [(T0, 3), (T0 + 300, 1), (T0 + HOUR, 1)]
    assert got[1].histogram is not None and got[1].histogram.bounds == (0.01, 0.1, 1.0)
    assert [r.start for r in store.query_rollups("lat", FINE, T0 + 300, T0 + HOUR, now=NOW)] == [
        T0 + 300,
        T0 + HOUR,
    ]
    markers = list(store.query_rollups("cpu", FINE, T0, T0 + 2 * HOUR, now=NOW))
    assert [(r.start, r.count, is_plain_marker(r)) for r in markers] == [(T0, 0, True), (T0 + HOUR, 0, True)]
    assert list(store.query_rollups("lat", "1h", T0, T0 + 2 * HOUR, now=NOW)) == []


def test_a_recomputed_fine_host_hour_replaces_all_its_buckets(store: Any) -> None:
    store.put_samples("web-1", [lat(T0 + 10, 0.1), lat(T0 + 900, 0.2)], None, T0 + 1000)
    store.put_rollups(fine_rollups([lat(T0 + 10, 0.1), lat(T0 + 900, 0.2)]), NOW)
    store.put_rollups(fine_rollups([lat(T0 + 1500, 0.4, 0.5)]), NOW)
    got = list(store.query_rollups("lat", FINE, T0, T0 + HOUR, now=NOW))
    assert [(r.start, r.count) for r in got] == [(T0 + 1500, 2)]


def test_fine_rollups_expire_with_the_raw_retention_not_after_400_days(store: Any, retention: float) -> None:
    store.put_samples("web-1", [lat(T0 + 10, 0.1)], None, T0 + 20)
    store.put_rollups(fine_rollups([lat(T0 + 10, 0.1)]) + hourly([lat(T0 + 10, 0.1)]), T0 + 20)
    assert len(list(store.query_rollups("lat", FINE, T0, T0 + HOUR, now=T0 + 86400))) == 1
    later = T0 + HOUR + retention + 1
    assert list(store.query_rollups("lat", FINE, T0, T0 + HOUR, now=later)) == []
    store.purge_expired(later)
    assert list(store.query_rollups("lat", FINE, T0, T0 + HOUR, now=later)) == []
    assert len(list(store.query_rollups("lat", "1h", T0, T0 + HOUR, now=later))) == 1


def test_the_rollup_job_writes_the_fine_tier_from_the_same_raw_read(store: Any, retention: float) -> None:
    points = [lat(T0 + 60 * i, 0.01 * (i + 1)) for i in range(90)] + [pt("cpu", 1.0, T0 + 30)]
    store.put_samples("web-1", points, None, T0 + 5400)
    now = T0 + 2 * HOUR + 60
    report = run_rollups(store, now, retention_seconds=retention)
    assert report["hours"] >= 2
    got = list(store.query_rollups("lat", FINE, T0, now, now=now))
    assert [r.start for r in got] == [T0 + 300 * i for i in range(18)]
    assert sum(r.count for r in got) == 90
    assert [is_plain_marker(r) for r in store.query_rollups("cpu", FINE, T0, now, now=now)] == [True]
    assert store.get_doc("rollup_state", "watermark")["fine_from"] <= T0
