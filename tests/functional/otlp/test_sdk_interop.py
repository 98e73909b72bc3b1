"""The official OpenTelemetry Python SDK + OTLP/HTTP exporters (not our code) export to a loopback
capture server; Vigil's decoder and mapping must reproduce ids, durations, attributes and histogram
counts exactly, in protobuf (gzip) and in the JSON encoding built from the same requests."""

from __future__ import annotations

import base64
import time
from typing import TYPE_CHECKING, Any

from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from vigil.adapters.otlp.decode import decode_metrics, decode_traces
from vigil.adapters.otlp.metrics import map_metrics
from vigil.adapters.otlp.state import MemoryCumulativeState
from vigil.adapters.otlp.traces import map_traces
from vigil.domain.errors_grouping import fingerprint

if TYPE_CHECKING:
    from conftest import CaptureServer

RESOURCE = {"service.name": "shop", "host.name": "web-1", "deployment.environment": "test"}


def to_otlp_json(message: Any) -> bytes:
    """OTLP/JSON as the spec writes it: json_format's base64 ids turned into hex."""
    data = json_format.MessageToDict(message)

    def fix(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("traceId", "spanId", "parentSpanId") and isinstance(v, str):
                    node[k] = base64.b64decode(v).hex()
                else:
                    fix(v)
        elif isinstance(node, list):
            for item in node:
                fix(item)

    fix(data)
    import json

    return json.dumps(data).encode()


def test_sdk_spans_decode_to_exact_ids_durations_attributes_and_errors(capture: CaptureServer) -> None:
    provider = TracerProvider(resource=Resource.create(RESOURCE))
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=capture.url + "/v1/traces", compression=Compression.Gzip)
        )
    )
    tracer = provider.get_tracer("interop")
    with (
        tracer.start_as_current_span(
            "GET /orders/{id}",
            kind=SpanKind.SERVER,
            attributes={
                "http.route": "/orders/{id}",
                "http.response.status_code": 200,
                "enduser.id": "u-1",
                "retries": 2,
                "ok": True,
            },
        ),
        tracer.start_as_current_span("SELECT orders", kind=SpanKind.CLIENT) as child,
    ):
        child.set_attribute("db.system", "postgresql")
    with tracer.start_as_current_span(
        "POST /pay", kind=SpanKind.SERVER, attributes={"http.route": "/pay"}
    ) as failing:
        try:
            raise ValueError("card 4242 declined for order 9f8e7d6c5b4a")
        except ValueError as exc:
            failing.record_exception(exc)
            failing.set_status(Status(StatusCode.ERROR, "declined"))
    assert provider.force_flush()
    provider.shutdown()

    requests = capture.bodies("/v1/traces")
    assert requests and all(r.content_encoding == "gzip" for r in requests)
    sdk = {format(s.context.span_id, "016x"): s for s in memory.get_finished_spans()}
    merged = ExportTraceServiceRequest()
    for r in requests:
        req, enc, _ = decode_traces(r.body, r.content_type, r.content_encoding)
        assert enc == "protobuf"
        json_req, _, unreadable = decode_traces(to_otlp_json(req), "application/json")
        assert unreadable.count == 0
        assert json_req == req  # hex ids in JSON decode to the very same bytes
        merged.MergeFrom(req)
    result = map_traces(merged, now=time.time())
    assert result.rejected == 0
    assert {s.span_id for s in result.spans} == set(sdk)
    for span in result.spans:
        want = sdk[span.span_id]
        assert span.trace_id == format(want.context.trace_id, "032x")
        assert span.parent_span_id == (format(want.parent.span_id, "016x") if want.parent else None)
        assert span.duration_ms == (want.end_time - want.start_time) / 1e6
        assert span.start == want.start_time / 1e9
        assert span.host == "web-1" and span.service == "shop"
        assert span.attributes == dict(want.attributes)
    server = next(s for s in result.spans if s.name == "GET /orders/{id}")
    assert (server.kind, server.route, server.http_status_code) == ("server", "/orders/{id}", 200)
    assert server.attributes["retries"] == 2 and server.attributes["ok"] is True
    [error] = result.errors
    assert error.type == "ValueError" and error.message == "card 4242 declined for order 9f8e7d6c5b4a"
    assert error.trace_id == next(s.trace_id for s in result.spans if s.name == "POST /pay")
    assert error.fingerprint == fingerprint(
        "ValueError", "card 17 declined for order 00112233aa", error.stack
    )
    counts = {
        (p.metric, dict(p.labels)["http.route"]): p for p in result.points if "http.route" in dict(p.labels)
    }
    assert counts[("http.server.request.count", "/orders/{id}")].value == 1.0
    assert counts[("http.server.error.count", "/pay")].value == 1.0
    hist = counts[("http.server.request.duration", "/orders/{id}")].histogram
    assert hist is not None and hist.count == 1 and hist.sum == server.duration_ms / 1000.0
    [users] = [p for p in result.points if p.metric == "app.users.active"]
    assert users.value == 1.0


def _meter(capture: CaptureServer) -> tuple[MeterProvider, InMemoryMetricReader]:
    memory = InMemoryMetricReader()
    exporting = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=capture.url + "/v1/metrics"), export_interval_millis=3_600_000
    )
    return MeterProvider(resource=Resource.create(RESOURCE), metric_readers=[memory, exporting]), memory


def _mapped(capture: CaptureServer, state: MemoryCumulativeState, start: int) -> list[Any]:
    points = []
    for r in capture.bodies("/v1/metrics")[start:]:
        req, _, _ = decode_metrics(r.body, r.content_type, r.content_encoding)
        result = map_metrics(req, now=time.time(), state=state)
        assert result.rejected == 0, result.message()
        for host in list(result.pending):  # as the service does once the points are stored
            result.commit(host)
        points.extend(result.points)
    return points


def test_sdk_cumulative_counter_and_histogram_become_exact_deltas(capture: CaptureServer) -> None:
    state = MemoryCumulativeState(tracking_since=time.time() - 1)
    provider, memory = _meter(capture)
    meter = provider.get_meter("interop")
    orders = meter.create_counter("orders.created")
    latency = meter.create_histogram("http.server.request.duration", unit="s")
    in_flight = meter.create_up_down_counter("http.server.active_requests")
    orders.add(3, {"channel": "web"})
    for v in (0.004, 0.02, 0.02, 0.3, 7.0):
        latency.record(v, {"http.route": "/a"})
    in_flight.add(5)
    in_flight.add(-2)
    assert provider.force_flush()
    first = _mapped(capture, state, 0)
    [sdk_hist] = [
        m
        for rm in memory.get_metrics_data().resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.name == "http.server.request.duration"
    ]
    want = sdk_hist.data.data_points[0]
    by_metric = {p.metric: p for p in first}
    assert by_metric["orders.created"].value == 3.0
    assert dict(by_metric["orders.created"].labels) == {"channel": "web", "service": "shop"}
    assert by_metric["orders.created"].host == "web-1"
    assert by_metric["http.server.active_requests"].value == 3.0  # non-monotonic: the level, as a gauge
    hist = by_metric["http.server.request.duration"].histogram
    assert hist is not None
    assert hist.counts == tuple(want.bucket_counts) and hist.bounds == tuple(want.explicit_bounds)
    assert (hist.count, hist.sum, hist.min, hist.max) == (5, want.sum, 0.004, 7.0)

    orders.add(2, {"channel": "web"})
    latency.record(0.02, {"http.route": "/a"})
    assert provider.force_flush()
    second = {p.metric: p for p in _mapped(capture, state, 1)}
    assert second["orders.created"].value == 2.0
    delta = second["http.server.request.duration"].histogram
    assert delta is not None and delta.count == 1 and sum(delta.counts) == 1
    provider.shutdown()

    # The app restarts: a new provider, a new start time, a smaller cumulative value.
    restarted, _ = _meter(capture)
    restarted.get_meter("interop").create_counter("orders.created").add(1, {"channel": "web"})
    already = len(capture.bodies("/v1/metrics"))
    assert restarted.force_flush()
    after_reset = {p.metric: p for p in _mapped(capture, state, already)}
    assert after_reset["orders.created"].value == 1.0
    restarted.shutdown()
