"""Interop end to end: an app instrumented with the official OpenTelemetry Python SDK and its OTLP/HTTP
exporters (`opentelemetry-exporter-otlp-proto-http`, not our code) exports to a real `LocalServer` on
loopback, and what it sent comes back through Vigil's HTTP API exactly: trace and span ids, parent links,
nanosecond durations, error groups linked to their trace, histogram counts and percentiles, counter
deltas across an app restart. Also: the local server's own requests show up as service `vigil`."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    HistogramDataPoint,
    InMemoryMetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode, format_span_id, format_trace_id

from vigil.config import Config
from vigil.domain import histograms
from vigil.domain.models import Histogram
from vigil.local.server import LocalServer

RESOURCE = Resource.create({"service.name": "shop", "host.name": "web-1"})
WHOLE_WINDOW = str(10**7)  # one series bucket for the whole test (buckets align to multiples of step)


class Vigil:
    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.url = server.url
        self.admin = {"Authorization": f"Bearer {server.admin_token}"}
        created = requests.post(f"{self.url}/api/keys", json={"name": "shop"}, headers=self.admin, timeout=30)
        assert created.status_code == 201, created.text
        self.key = created.json()["key"]

    def get(self, path: str, **params: Any) -> Any:
        response = requests.get(f"{self.url}{path}", params=params, headers=self.admin, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def total(self, metric: str, agg: str, labels: str = "service=shop") -> float:
        body = self.get(
            "/api/metrics/series",
            metric=metric,
            agg=agg,
            labels=labels,
            group_by="none",
            step=WHOLE_WINDOW,
            **{"from": "-10m"},
        )
        return float(sum(v for s in body["series"] for v in s["values"] if v is not None))


@pytest.fixture
def vigil(tmp_path: Path) -> Iterator[Vigil]:
    config = Config(data_dir=tmp_path / "vigil", admin_token="interop-admin")
    with LocalServer(config, port=0, agent=False) as server:
        yield Vigil(server)


def tracer_provider(vigil: Vigil) -> tuple[TracerProvider, InMemorySpanExporter]:
    provider = TracerProvider(resource=RESOURCE)
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    exporter = OTLPSpanExporter(
        endpoint=f"{vigil.url}/v1/traces",
        headers={"Authorization": f"Bearer {vigil.key}"},
        compression=Compression.Gzip,
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))  # exports as each span ends
    return provider, memory


def meter_provider(vigil: Vigil) -> tuple[MeterProvider, InMemoryMetricReader]:
    memory = InMemoryMetricReader()
    exporter = OTLPMetricExporter(
        endpoint=f"{vigil.url}/v1/metrics",
        headers={"Authorization": f"Bearer {vigil.key}"},
        compression=Compression.Gzip,
    )
    exporting = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)  # flush by hand
    return MeterProvider(resource=RESOURCE, metric_readers=[memory, exporting]), memory


def checkout(provider: TracerProvider) -> None:
    """A failing request: SERVER span (route, 500) with a CLIENT child and a recorded exception."""
    tracer = provider.get_tracer("shop")
    with tracer.start_as_current_span(
        "POST /checkout",
        kind=SpanKind.SERVER,
        attributes={"http.route": "/checkout", "http.response.status_code": 500},
        record_exception=False,
        set_status_on_exception=False,
    ) as root:
        with tracer.start_as_current_span("SELECT stock", kind=SpanKind.CLIENT):
            pass
        try:
            raise ValueError("card 4242 declined for order 17")
        except ValueError as exc:
            root.record_exception(exc)
            root.set_status(Status(StatusCode.ERROR, "declined"))


def test_official_sdk_traces_come_back_with_exact_ids_durations_and_linked_errors(vigil: Vigil) -> None:
    provider, memory = tracer_provider(vigil)
    checkout(provider)
    sent: list[ReadableSpan] = sorted(memory.get_finished_spans(), key=lambda s: s.start_time or 0)
    assert len(sent) == 2
    trace_id = format_trace_id(sent[0].context.trace_id)

    trace = vigil.get(f"/api/traces/{trace_id}")
    assert trace["trace_id"] == trace_id
    assert [
        (s["span_id"], s["parent_span_id"], s["name"], s["kind"], s["duration_ms"]) for s in trace["spans"]
    ] == [
        (
            format_span_id(s.context.span_id),
            format_span_id(s.parent.span_id) if s.parent else None,
            s.name,
            "server" if s.kind is SpanKind.SERVER else "client",
            ((s.end_time or 0) - (s.start_time or 0)) / 1e6,  # exact: from the nanoseconds
        )
        for s in sent
    ]
    root = trace["spans"][0]
    assert (root["status_code"], root["http_status_code"], root["error"]) == ("error", 500, True)
    assert root["attributes"]["http.route"] == "/checkout"
    assert [e["name"] for e in root["events"]] == ["exception"]

    listed = vigil.get("/api/traces", service="shop", status="error")["traces"]
    assert [(t["trace_id"], t["span_count"], t["route"]) for t in listed] == [(trace_id, 2, "/checkout")]
    [group] = vigil.get("/api/errors")["errors"]
    assert (group["type"], group["count"], group["trace_id"]) == ("ValueError", 1, trace_id)
    assert group["message"] == "card 4242 declined for order 17"
    # application metrics derived from the SERVER span (the app sent no metrics of its own)
    assert vigil.total("http.server.request.count", "sum") == 1
    assert vigil.total("http.server.error.count", "sum") == 1
    provider.shutdown()


def test_official_sdk_metrics_come_back_as_exact_histograms_and_counter_deltas_across_a_restart(
    vigil: Vigil,
) -> None:
    provider, memory = meter_provider(vigil)
    meter = provider.get_meter("shop")
    orders = meter.create_counter("orders.created")
    latency = meter.create_histogram("http.server.request.duration", unit="s")
    route: dict[str, str | int] = {"http.route": "/a", "http.response.status_code": 200}
    orders.add(3)
    for seconds in (0.004, 0.02, 0.02, 0.3, 7.0):
        latency.record(seconds, route)
    assert provider.force_flush()
    orders.add(2)
    latency.record(0.02, route)
    assert provider.force_flush()
    final = memory.get_metrics_data()  # cumulative: everything recorded so far
    assert final is not None
    provider.shutdown()
    [point] = [
        m.data.data_points[0]
        for rm in final.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.name == "http.server.request.duration"
    ]
    assert isinstance(point, HistogramDataPoint)
    # The app restarts: new start time, the cumulative counter starts again from zero (a reset).
    restarted, _ = meter_provider(vigil)
    restarted.get_meter("shop").create_counter("orders.created").add(1)
    assert restarted.force_flush()
    restarted.shutdown()

    assert vigil.total("orders.created", "sum") == 3 + 2 + 1
    assert vigil.total("http.server.request.duration", "count") == 6
    sdk = Histogram(
        tuple(point.explicit_bounds), tuple(point.bucket_counts), point.sum, point.count, point.min, point.max
    )
    expected_p95 = histograms.quantile(sdk, 0.95)  # the SDK's own buckets, read the way Vigil reads them
    assert vigil.total("http.server.request.duration", "p95") == pytest.approx(expected_p95, rel=1e-12)
    snapshot = vigil.get("/api/metrics")["application"]
    assert snapshot["response_time_p95"] is not None and snapshot["request_rate"]["value"] > 0


def sdk_json(spans: list[ReadableSpan]) -> dict[str, Any]:
    """The SDK's own export request as OTLP/JSON: protobuf's JSON with the ids turned into hex."""
    data: dict[str, Any] = json_format.MessageToDict(encode_spans(spans))
    for rs in data["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for s in ss["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in s:
                        s[key] = base64.b64decode(s[key]).hex()
    return data


def test_otlp_json_over_http_keeps_hex_ids_and_reports_partial_success(vigil: Vigil) -> None:
    provider = TracerProvider(resource=RESOURCE)
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("shop").start_as_current_span("GET /", kind=SpanKind.SERVER):
        pass
    body = sdk_json(list(memory.get_finished_spans()))
    spans = body["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans.append({**spans[0], "spanId": "0000000000000000"})  # an invalid id: rejected, the rest kept
    response = requests.post(
        f"{vigil.url}/v1/traces",
        data=json.dumps(body),
        headers={"Authorization": f"Bearer {vigil.key}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert (response.status_code, response.headers["Content-Type"]) == (200, "application/json")
    partial = response.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "1" and "span_id" in partial["errorMessage"]
    trace = vigil.get(f"/api/traces/{spans[0]['traceId']}")
    assert [s["span_id"] for s in trace["spans"]] == [spans[0]["spanId"]]

    no_key = requests.post(
        f"{vigil.url}/v1/traces",
        data=json.dumps(body),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert no_key.status_code == 401


def test_the_local_servers_own_requests_appear_as_service_vigil_in_the_api_cards(tmp_path: Path) -> None:
    # A 1 ms tick: after the requests below (each well over 1 ms on loopback) the tick we run is due.
    config = Config(data_dir=tmp_path / "vigil", admin_token="self-admin", interval_seconds=0.001)
    with LocalServer(config, port=0, agent=False) as server:
        server.scheduler.stop()  # joined: from here on only the tick below flushes
        vigil = Vigil(server)
        for _ in range(5):
            vigil.get("/api/hosts")
        missing = requests.get(f"{vigil.url}/api/traces/{'a' * 32}", headers=vigil.admin, timeout=30)
        assert missing.status_code == 404
        server.scheduler.tick()  # every observation was recorded before its response was sent

        application = vigil.get("/api/metrics")["application"]
        assert application["response_time_p95"]["value"] > 0
        assert application["request_rate"]["value"] > 0 and application["request_rate"]["unit"] == "req/s"
        assert application["error_rate"]["value"] == 0.0  # a 404 is the caller's mistake, not an error
        hosts_count = vigil.total(
            "http.server.request.count", "sum", labels="service=vigil,http.route=/api/hosts"
        )
        assert hosts_count == 5
        by_template = "service=vigil,http.route=/api/traces/{trace_id},http.response.status_code=404"
        assert vigil.total("http.server.request.duration", "count", labels=by_template) == 1
        assert [h["host"] for h in vigil.get("/api/hosts")["hosts"]] == [server.self_metrics.host]


# (route, HTTP status, span status ERROR): 10 requests, 3 of them errors (two HTTP 500, one ERROR status)
REQUESTS = [("/checkout", 200, False)] * 5 + [("/checkout", 500, False)] * 2 + [("/cart", 200, False)] * 2
QUIET_HOUR = 3600.0  # the scheduler is stopped; the snapshot window is 3 intervals


@pytest.fixture
def quiet_vigil(tmp_path: Path) -> Iterator[Vigil]:
    """A LocalServer whose own request metrics are never flushed, so `/api/metrics` shows the app only."""
    config = Config(data_dir=tmp_path / "vigil", admin_token="quiet-admin", interval_seconds=QUIET_HOUR)
    with LocalServer(config, port=0, agent=False) as server:
        server.scheduler.stop()  # joined before any request was observed
        yield Vigil(server)


def serve(provider: TracerProvider, route: str, status: int, error: bool) -> None:
    """One request as an instrumented web framework records it: a SERVER span, ERROR on failure."""
    attributes: dict[str, str | int] = {"http.route": route}
    if not error:
        attributes["http.response.status_code"] = status
    with provider.get_tracer("shop").start_as_current_span(
        f"GET {route}", kind=SpanKind.SERVER, attributes=attributes
    ) as span:
        if error:
            span.set_status(Status(StatusCode.ERROR, "upstream timed out"))


def test_an_app_sending_only_traces_shows_its_exact_error_rate_in_the_snapshot(quiet_vigil: Vigil) -> None:
    provider, memory = tracer_provider(quiet_vigil)
    for route, status, error in [*REQUESTS, ("/cart", 0, True)]:
        serve(provider, route, status, error)
    provider.shutdown()
    assert len(memory.get_finished_spans()) == 10

    application = quiet_vigil.get("/api/metrics")["application"]
    assert application["error_rate"]["value"] == 30.0
    assert application["success_rate"]["value"] == 70.0
    window = application["request_rate"]["value"] * 3 * QUIET_HOUR
    assert window == pytest.approx(10, rel=1e-12)


def test_an_app_sending_traces_and_its_own_request_metric_is_counted_once(quiet_vigil: Vigil) -> None:
    tracing, _ = tracer_provider(quiet_vigil)
    metering, _ = meter_provider(quiet_vigil)
    latency = metering.get_meter("shop").create_histogram("http.server.request.duration", unit="s")
    requests_sent = [*REQUESTS, ("/cart", 503, False)]
    for route, status, error in requests_sent:
        serve(tracing, route, status, error)
        latency.record(0.02, {"http.route": route, "http.response.status_code": status})
    assert metering.force_flush()
    metering.shutdown()
    tracing.shutdown()
    # both arrived: the span-derived histograms and the app's own (status-labelled) ones
    assert quiet_vigil.total("http.server.request.count", "sum") == 10
    assert quiet_vigil.total("http.server.request.duration", "count") == 20

    application = quiet_vigil.get("/api/metrics")["application"]
    assert application["error_rate"]["value"] == 30.0
    assert application["success_rate"]["value"] == 70.0
    assert application["request_rate"]["value"] * 3 * QUIET_HOUR == pytest.approx(10, rel=1e-12)
