"""OTLP partial success over real HTTP through the local server: unreadable data points and spans are
refused one by one, counted in `partialSuccess` (`rejectedDataPoints` / `rejectedSpans`) with an
`errorMessage` naming each one, in OTLP/JSON and in protobuf (`Export*ServiceResponse`), while the
readable rest of the export is stored. The official SDK's encoder and exporter are the other side."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult
from opentelemetry.sdk.resources import Resource

from vigil.config import Config
from vigil.local.server import LocalServer

TRACE = "5b8efff798038103d269b633813fc60c"
RESOURCE = {"attributes": [{"key": "host.name", "value": {"stringValue": "web-1"}}]}


class Otlp:
    def __init__(self, server: LocalServer) -> None:
        self.url = server.url
        self.admin = {"Authorization": f"Bearer {server.admin_token}"}
        created = requests.post(f"{self.url}/api/keys", json={"name": "otel"}, headers=self.admin, timeout=5)
        self.key = created.json()["key"]

    def post(self, path: str, body: bytes, content_type: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": content_type}
        return requests.post(f"{self.url}{path}", data=body, headers=headers, timeout=10)

    def values(self, metric: str) -> list[float]:
        params = {"metric": metric, "agg": "max", "from": "-10m", "step": str(10**7)}
        body = requests.get(f"{self.url}/api/metrics/series", params=params, headers=self.admin, timeout=5)
        return [v for s in body.json()["series"] for v in s["values"] if v is not None]

    def span_ids(self) -> list[str]:
        answer = requests.get(f"{self.url}/api/traces/{TRACE}", headers=self.admin, timeout=5)
        return [s["span_id"] for s in answer.json()["spans"]] if answer.status_code == 200 else []


@pytest.fixture
def otlp(tmp_path: Path) -> Iterator[Otlp]:
    config = Config(data_dir=tmp_path / "vigil", admin_token="otlp-admin")
    with LocalServer(config, port=0, agent=False) as server:
        yield Otlp(server)


def now_ns() -> str:
    return str(time.time_ns())


def metrics_json(*metrics: dict[str, Any]) -> bytes:
    doc = {"resourceMetrics": [{"resource": RESOURCE, "scopeMetrics": [{"metrics": list(metrics)}]}]}
    return json.dumps(doc).encode()


def test_unreadable_json_data_points_are_rejected_one_by_one_and_named(otlp: Otlp) -> None:
    good = {"asDouble": 4.0, "timeUnixNano": now_ns()}
    body = metrics_json(
        {"name": "queue.depth", "gauge": {"dataPoints": [good, {"asDouble": "four"}, {"timeUnixNano": "x"}]}},
        {"name": "orders.total", "sum": {"dataPoints": "not a list"}},
        {"name": "cache.ratio", "gauges": {"dataPoints": [good]}},  # a typo: no data of a known type
    )
    response = otlp.post("/v1/metrics", body, "application/json")
    assert (response.status_code, response.headers["Content-Type"]) == (200, "application/json")
    partial = response.json()["partialSuccess"]
    assert partial["rejectedDataPoints"] == "4"
    message = partial["errorMessage"]
    assert "metrics[0].gauge.dataPoints[1]" in message and "four" in message
    assert "metrics[0].gauge.dataPoints[2]" in message and "timeUnixNano" in message
    assert "metrics[1].sum.dataPoints: not a JSON list" in message
    assert "'cache.ratio' has no gauge, sum, histogram or summary data" in message
    assert otlp.values("queue.depth") == [4.0]  # the readable point of the same metric is stored


def test_a_ratio_sent_as_a_percentage_is_rejected_alone_naming_the_unit(otlp: Otlp) -> None:
    points = [{"asDouble": v, "timeUnixNano": now_ns()} for v in (0.42, 85.0)]
    body = metrics_json({"name": "system.cpu.utilization", "unit": "1", "gauge": {"dataPoints": points}})
    response = otlp.post("/v1/metrics", body, "application/json")
    assert response.status_code == 200
    partial = response.json()["partialSuccess"]
    assert partial["rejectedDataPoints"] == "1"
    assert 'is a ratio (unit "1"' in partial["errorMessage"] and "send 0.85" in partial["errorMessage"]
    assert otlp.values("system.cpu.utilization") == [0.42]


def test_unreadable_json_spans_are_rejected_one_by_one_and_named(otlp: Otlp) -> None:
    t = now_ns()

    def span(span_id: str, **extra: Any) -> dict[str, Any]:
        return {"traceId": TRACE, "spanId": span_id, "name": "GET /", "startTimeUnixNano": t, **extra}

    spans = [
        span("eee19b7ec3c1b174", endTimeUnixNano=t),
        span("not-hex", endTimeUnixNano=t),
        span("eee19b7ec3c1b175", endTimeUnixNano="soon"),
        "not a span",
    ]
    doc = {"resourceSpans": [{"resource": RESOURCE, "scopeSpans": [{"spans": spans}]}]}
    response = otlp.post("/v1/traces", json.dumps(doc).encode(), "application/json")
    assert response.status_code == 200
    partial = response.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "3", partial
    assert "spans[1]: spanId must be a hex id" in partial["errorMessage"]
    assert "spans[2]" in partial["errorMessage"] and "endTimeUnixNano" in partial["errorMessage"]
    assert "spans[3]: not a JSON object" in partial["errorMessage"]
    assert otlp.span_ids() == ["eee19b7ec3c1b174"]


def test_metric_keys_inside_a_trace_export_read_part_by_part_are_ignored_not_a_500(otlp: Otlp) -> None:
    # The part-by-part reader knows the list and kind keys of both exports; in a trace export the
    # metric ones name no field and are ignored as unknown fields are (the API fuzzer found the 500).
    t = now_ns()
    good = {
        "traceId": TRACE,
        "spanId": "eee19b7ec3c1b176",
        "name": "GET /",
        "startTimeUnixNano": t,
        "endTimeUnixNano": t,
    }
    bad = {**good, "spanId": "not-hex"}
    scope = {"spans": [good, bad], "dataPoints": [{}], "gauge": {}}
    doc = {"resourceSpans": [{"resource": RESOURCE, "scopeSpans": [scope], "scopeMetrics": [{}]}]}
    doc["resourceMetrics"] = [{"scopeMetrics": []}]
    response = otlp.post("/v1/traces", json.dumps(doc).encode(), "application/json")
    assert response.status_code == 200, response.text
    assert response.json()["partialSuccess"]["rejectedSpans"] == "1", response.text
    assert otlp.span_ids() == ["eee19b7ec3c1b176"]


def test_a_json_export_whose_shell_is_unreadable_is_still_a_400(otlp: Otlp) -> None:
    response = otlp.post("/v1/metrics", b'{"resourceMetrics": {"not": "a list"}}', "application/json")
    assert response.status_code == 400 and response.json()["error"]["field"] == "body"


def test_a_protobuf_metric_of_no_known_type_is_counted_in_the_protobuf_response(otlp: Otlp) -> None:
    request = ExportMetricsServiceRequest()
    rm = request.resource_metrics.add()
    kv = rm.resource.attributes.add()
    kv.key, kv.value.string_value = "host.name", "web-1"
    metrics = rm.scope_metrics.add().metrics
    good = metrics.add()
    good.name = "queue.depth"
    point = good.gauge.data_points.add()
    point.time_unix_nano, point.as_double = time.time_ns(), 2.0
    metrics.add().name = "mystery.metric"  # a type this receiver does not know arrives as no data at all
    response = otlp.post("/v1/metrics", request.SerializeToString(), "application/x-protobuf")
    assert (response.status_code, response.headers["Content-Type"]) == (200, "application/x-protobuf")
    answer = ExportMetricsServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_data_points == 1
    assert "'mystery.metric' has no gauge" in answer.partial_success.error_message
    assert otlp.values("queue.depth") == [2.0]


def test_a_protobuf_span_with_an_unusable_id_is_counted_in_the_protobuf_response(otlp: Otlp) -> None:
    request = ExportTraceServiceRequest()
    spans = request.resource_spans.add().scope_spans.add().spans
    for span_id in (bytes.fromhex("eee19b7ec3c1b174"), bytes(8)):  # the second is all zero: invalid
        span = spans.add()
        span.trace_id, span.span_id, span.name = bytes.fromhex(TRACE), span_id, "GET /"
        span.start_time_unix_nano = span.end_time_unix_nano = time.time_ns()
    response = otlp.post("/v1/traces", request.SerializeToString(), "application/x-protobuf")
    answer = ExportTraceServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_spans == 1
    assert "span_id" in answer.partial_success.error_message
    assert otlp.span_ids() == ["eee19b7ec3c1b174"]


def test_the_official_exporter_succeeds_while_its_unstorable_point_is_rejected_alone(otlp: Otlp) -> None:
    memory = InMemoryMetricReader()
    provider = MeterProvider(resource=Resource.create({"host.name": "web-1"}), metric_readers=[memory])
    meter = provider.get_meter("shop")
    meter.create_gauge("queue.depth").set(5.0)
    meter.create_gauge("beyond.range").set(1e301)  # over ±1e300: its sums could overflow
    data = memory.get_metrics_data()
    assert data is not None
    # What the exporter sends, and what Vigil answers it (the exporter itself does not read the body):
    body = encode_metrics(data).SerializeToString()
    answer = ExportMetricsServiceResponse.FromString(
        otlp.post("/v1/metrics", body, "application/x-protobuf").content
    )
    assert answer.partial_success.rejected_data_points == 1
    assert "1e+300" in answer.partial_success.error_message
    exporter = OTLPMetricExporter(
        endpoint=f"{otlp.url}/v1/metrics", headers={"Authorization": f"Bearer {otlp.key}"}
    )
    assert exporter.export(data) is MetricExportResult.SUCCESS  # a partial success is not retried
    provider.shutdown()
    assert otlp.values("queue.depth") == [5.0]
    assert otlp.values("beyond.range") == []
