"""The `/api/metrics` snapshot: KPI values in display units, trends against the previous window, nulls."""

from __future__ import annotations

import random

import pytest

from vigil.domain import histograms
from vigil.domain.catalog import CATALOG, catalog_entries
from vigil.domain.models import Point
from vigil.domain.snapshot import SECTIONS, SNAPSHOT_METRICS, build_snapshot

NOW = 1_764_190_000.0


def gauge(host: str, metric: str, value: float, ts: float = NOW - 5, **labels: str) -> Point:
    return Point(host, metric, tuple(sorted(labels.items())), ts, value)


def latency(host: str, values: list[float], status: str, ts: float = NOW - 5) -> Point:
    labels = (("http.response.status_code", status), ("http.route", "/api"))
    return Point(host, "http.server.request.duration", labels, ts, None, histograms.from_values(values))


def test_snapshot_without_data_has_every_section_with_null_kpis_and_an_rfc3339_timestamp():
    snap = build_snapshot([], [], NOW)
    assert snap["timestamp"] == "2025-11-26T20:46:40.000Z"
    for section, kpis in SECTIONS.items():
        assert snap[section] == {k.key: None for k in kpis}


def test_cpu_is_the_fleet_average_in_percent_with_an_upward_trend():
    latest = [gauge("a", "system.cpu.utilization", 0.50), gauge("b", "system.cpu.utilization", 0.70)]
    previous = [
        gauge("a", "system.cpu.utilization", 0.40, NOW - 65),
        gauge("b", "system.cpu.utilization", 0.40),
    ]
    cpu = build_snapshot(latest, previous, NOW, thresholds={"cpu_percent": 80.0})["system"]["cpu"]
    assert cpu["value"] == pytest.approx(60.0) and cpu["unit"] == "%" and cpu["hosts"] == 2
    assert cpu["trend"] == "up" and cpu["change_pct"] == pytest.approx(50.0)
    assert cpu["threshold"] == 80.0 and cpu["title"] == "CPU"


def test_small_changes_are_flat_and_a_kpi_without_a_previous_window_is_flat_without_change():
    latest = [gauge("a", "system.memory.utilization", 0.500, state="used")]
    previous = [gauge("a", "system.memory.utilization", 0.499, NOW - 65, state="used")]
    assert build_snapshot(latest, previous, NOW)["system"]["memory"]["trend"] == "flat"
    alone = build_snapshot(latest, [], NOW)["system"]["memory"]
    assert (alone["trend"], alone["change_pct"]) == ("flat", None)


def test_io_sums_directions_and_hosts_in_megabytes_per_second_and_averages_each_series_over_the_window():
    latest = [
        gauge("a", "system.disk.io", 1e6, NOW - 20, direction="read"),
        gauge("a", "system.disk.io", 3e6, NOW - 10, direction="read"),
        gauge("a", "system.disk.io", 1e6, NOW - 10, direction="write"),
        gauge("b", "system.disk.io", 4e6, NOW - 10, direction="write"),
        gauge("a", "system.memory.usage", 2e9, state="used"),
        gauge("a", "system.memory.usage", 9e9, state="free"),
    ]
    system = build_snapshot(latest, [], NOW)["system"]
    assert system["disk_io"]["value"] == pytest.approx(2 + 1 + 4)
    assert system["disk_io"]["unit"] == "MB/s"
    assert system["memory_used"]["value"] == pytest.approx(2000.0)


def test_response_time_percentiles_come_from_merged_histograms_and_rates_from_their_counts():
    rng = random.Random(11)
    ok_a = [rng.expovariate(8) for _ in range(90)]
    ok_b = [rng.expovariate(4) for _ in range(100)]
    failed = [rng.expovariate(2) for _ in range(10)]
    latest = [latency("a", ok_a, "200"), latency("b", ok_b, "200"), latency("b", failed, "503")]
    app = build_snapshot(latest, [], NOW, window=60.0)["application"]
    everything = histograms.from_values(ok_a + ok_b + failed)
    for q in (50, 95, 99):
        expected = histograms.quantile(everything, q / 100)
        assert expected is not None
        assert app[f"response_time_p{q}"]["value"] == pytest.approx(expected * 1000)
        assert app[f"response_time_p{q}"]["unit"] == "ms"
    assert app["request_rate"]["value"] == pytest.approx(200 / 60)
    assert app["error_rate"]["value"] == pytest.approx(5.0)
    assert app["success_rate"]["value"] == pytest.approx(95.0)
    assert app["response_time_p95"]["hosts"] == 2
    assert app["concurrent_users"] is None


def test_database_kpis_slow_queries_pool_usage_and_transaction_rate_with_a_reset():
    latest = [
        Point(
            "db",
            "db.client.operation.duration",
            (),
            NOW - 5,
            None,
            histograms.from_values([0.01, 0.5, 1.5, 2.0]),
        ),
        gauge("db", "db.client.connection.count", 6, state="used"),
        gauge("db", "db.client.connection.count", 4, state="idle"),
        gauge("db", "db.client.connection.max", 20),
        gauge("db", "db.transaction.count", 100, NOW - 50),
        gauge("db", "db.transaction.count", 200, NOW - 40),
        gauge("db", "db.transaction.count", 50, NOW - 30),  # restarted
    ]
    database = build_snapshot(latest, [], NOW)["database"]
    assert database["slow_queries"]["value"] == pytest.approx(2.0)
    assert database["query_time"]["value"] == pytest.approx((0.01 + 0.5 + 1.5 + 2.0) / 4 * 1000)
    assert database["pool_usage"]["value"] == pytest.approx(30.0)
    assert database["transaction_rate"]["value"] == pytest.approx((100 + 50) / 20)
    assert database["cache_hit_rate"] is None


def test_business_counters_show_per_minute_and_per_hour_rates():
    latest = [
        gauge("shop", "business.product.views", v, NOW - 60 + t) for t, v in ((0, 0), (30, 15), (60, 30))
    ]
    latest += [gauge("shop", "business.revenue", v, NOW - 60 + t) for t, v in ((0, 1000), (60, 1010))]
    business = build_snapshot(latest, [], NOW)["business"]
    assert business["product_views"]["value"] == pytest.approx(30.0)
    assert business["product_views"]["unit"] == "/min"
    assert business["revenue"]["value"] == pytest.approx(600.0)


def test_every_snapshot_metric_is_in_the_catalogue():
    assert set(SNAPSHOT_METRICS) <= set(CATALOG)


def test_catalogue_entries_merge_the_metrics_the_store_has_seen():
    entries = catalog_entries({"system.cpu.utilization": ["cpu", "core"], "shop.widgets": ["color"]})
    by_name = {e["name"]: e for e in entries}
    assert by_name["system.cpu.utilization"]["labels"] == ["core", "cpu"]
    assert by_name["system.cpu.utilization"]["seen"] and by_name["system.cpu.utilization"]["known"]
    assert by_name["shop.widgets"]["section"] == "custom" and not by_name["shop.widgets"]["known"]
    assert not by_name["business.revenue"]["seen"]
    assert entries[-1]["name"] == "shop.widgets"


def from_spans(
    host: str, route: str, durations: list[float], errors: int, service: str = "shop"
) -> list[Point]:
    """What `traces.derived_points` writes for one route of one export: a histogram without a status
    label and the request/error counts of the same series."""
    labels = (("http.route", route), ("service", service))
    return [
        Point(host, "http.server.request.duration", labels, NOW - 5, None, histograms.from_values(durations)),
        Point(host, "http.server.request.count", labels, NOW - 5, float(len(durations))),
        Point(host, "http.server.error.count", labels, NOW - 5, float(errors)),
    ]


def own(host: str, values: list[float], status: str, service: str = "shop") -> Point:
    labels = (("http.response.status_code", status), ("http.route", "/checkout"), ("service", service))
    return Point(host, "http.server.request.duration", labels, NOW - 5, None, histograms.from_values(values))


def test_an_app_sending_only_spans_gets_its_error_rate_from_the_span_error_counts():
    latest = [
        *from_spans("web-1", "/checkout", [0.1] * 8, errors=3),
        *from_spans("web-1", "/cart", [0.05] * 12, errors=0),
        *from_spans("web-2", "/checkout", [0.2] * 20, errors=2),
    ]
    app = build_snapshot(latest, [], NOW, window=60.0)["application"]
    assert app["request_rate"]["value"] == pytest.approx(40 / 60)
    assert app["error_rate"]["value"] == pytest.approx(100 * 5 / 40)
    assert app["success_rate"]["value"] == pytest.approx(100 * 35 / 40)


def test_an_app_sending_its_own_histograms_and_spans_is_counted_once():
    latest = [
        own("web-1", [0.1] * 18, "200"),
        own("web-1", [0.3] * 2, "500"),
        *from_spans("web-1", "/checkout", [0.1] * 18 + [0.3] * 2, errors=2),  # the same 20 requests
        *from_spans("web-2", "/checkout", [0.1] * 10, errors=5, service="billing"),  # spans only
    ]
    app = build_snapshot(latest, [], NOW, window=60.0)["application"]
    assert app["request_rate"]["value"] == pytest.approx(30 / 60)
    assert app["error_rate"]["value"] == pytest.approx(100 * 7 / 30)
    assert app["success_rate"]["value"] == pytest.approx(100 * 23 / 30)


def test_counts_written_beside_status_labelled_histograms_are_not_counted_again():
    # Vigil's own request metrics: histograms per status plus per-route counts (like span-derived ones).
    labels = (("http.route", "/api/x"), ("service", "vigil"))
    latest = [
        own("local", [0.01] * 9, "200", service="vigil"),
        own("local", [0.01], "503", service="vigil"),
        Point("local", "http.server.request.count", labels, NOW - 5, 10.0),
        Point("local", "http.server.error.count", labels, NOW - 5, 1.0),
    ]
    app = build_snapshot(latest, [], NOW, window=60.0)["application"]
    assert app["error_rate"]["value"] == pytest.approx(10.0)
