"""`POST /v1/metrics`, `POST /v1/traces` and the trace API through the real gateway and metrics handler:
wire formats (protobuf, JSON, gzip), OTLP responses with partial success, hex ids, counter resets,
and every error status an exporter can meet (400, 401, 413, 415, 503 with Retry-After)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.conftest import FrozenClock
from vigil.domain.errors import Unavailable
from vigil.domain.traces import Span, TraceSummary
from vigil.local.client import GatewayClient, json_of
from vigil.wiring import AppContext

TRACE = "5b8efff798038103d269b633813fc60c"  # hex that is also valid base64: json_format would misread it
ROOT = "eee19b7ec3c1b174"
CHILD = "aaaabbbbccccdddd"
PB = {"content-type": "application/x-protobuf"}
JSON = {"content-type": "application/json"}


def attr(key: str, value: Any) -> dict[str, Any]:
    kind = "intValue" if isinstance(value, int) else "stringValue"
    return {"key": key, "value": {kind: str(value) if kind == "intValue" else value}}


def resource(service: str = "shop", host: str = "web-1") -> dict[str, Any]:
    return {"attributes": [attr("service.name", service), attr("host.name", host)]}


def span(span_id: str, start_ns: int, end_ns: int, **extra: Any) -> dict[str, Any]:
    return {
        "traceId": TRACE,
        "spanId": span_id,
        "name": extra.pop("name", "GET /orders/{id}"),
        "kind": extra.pop("kind", 2),
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(end_ns),
        **extra,
    }


def traces_body(spans: Sequence[dict[str, Any]], service: str = "shop") -> bytes:
    doc = {"resourceSpans": [{"resource": resource(service), "scopeSpans": [{"spans": list(spans)}]}]}
    return json.dumps(doc).encode()


def gauge_request(
    points: Sequence[tuple[int, float]], name: str = "queue.depth"
) -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    rm = request.resource_metrics.add()
    for key, text in (("service.name", "shop"), ("host.name", "web-1")):
        kv = rm.resource.attributes.add()
        kv.key, kv.value.string_value = key, text
    metric = rm.scope_metrics.add().metrics.add()
    metric.name = name
    for ts_ns, value in points:
        dp = metric.gauge.data_points.add()
        dp.time_unix_nano = ts_ns
        dp.as_double = value
    return request


def cumulative_sum_json(value: int, start_ns: int, ts_ns: int) -> bytes:
    point = {"asInt": str(value), "startTimeUnixNano": str(start_ns), "timeUnixNano": str(ts_ns)}
    metric = {
        "name": "orders.created",
        "sum": {"dataPoints": [point], "aggregationTemporality": 2, "isMonotonic": True},
    }
    doc = {"resourceMetrics": [{"resource": resource(), "scopeMetrics": [{"metrics": [metric]}]}]}
    return json.dumps(doc).encode()


def series_values(admin: GatewayClient, metric: str, agg: str) -> list[float]:
    body = json_of(
        admin.get("/api/metrics/series", params={"metric": metric, "from": "-10m", "agg": agg, "step": "60"})
    )
    return [v for s in body["series"] for v in s["values"] if v is not None]


def ns(clock: FrozenClock, offset: float = 0.0) -> int:
    return int((clock.now() + offset) * 1e9)


def test_a_gzipped_protobuf_export_is_stored_and_answered_in_protobuf_with_partial_success(
    ingest: GatewayClient, admin: GatewayClient, clock: FrozenClock
) -> None:
    request = gauge_request([(ns(clock, -5), 7.0), (ns(clock), float("nan"))])
    response = ingest.post(
        "/v1/metrics",
        body=gzip.compress(request.SerializeToString()),
        headers={**PB, "content-encoding": "gzip"},
    )
    assert response.status == 200
    assert response.header("content-type") == "application/x-protobuf"
    answer = ExportMetricsServiceResponse.FromString(response.body)  # bytes survived base64 both ways
    assert answer.partial_success.rejected_data_points == 1
    assert "NaN" in answer.partial_success.error_message or "finite" in answer.partial_success.error_message
    assert series_values(admin, "queue.depth", "last") == [7.0]


def test_a_json_export_is_answered_in_json_and_a_clean_one_without_partial_success(
    ingest: GatewayClient, clock: FrozenClock
) -> None:
    good = cumulative_sum_json(3, ns(clock, 1), ns(clock, 2))  # started after Vigil: counted whole
    response = ingest.post("/v1/metrics", body=good, headers=JSON)
    assert (response.status, response.header("content-type")) == (200, "application/json")
    assert json_of(response) == {}  # partial_success only when something was rejected
    bad_name = good.replace(b"orders.created", b"9bad name")
    partial = json_of(ingest.post("/v1/metrics", body=bad_name, headers=JSON))
    assert partial["partialSuccess"]["rejectedDataPoints"] == "1"


def test_hex_span_ids_in_otlp_json_are_stored_as_those_ids_not_as_base64(
    ingest: GatewayClient, admin: GatewayClient, clock: FrozenClock
) -> None:
    start = ns(clock, -1)
    spans = [
        span(ROOT, start, start + 250_000_000, attributes=[attr("http.route", "/orders/{id}")]),
        span(CHILD, start + 1_000, start + 120_000_001, name="SELECT", kind=3, parentSpanId=ROOT),
    ]
    response = ingest.post("/v1/traces", body=traces_body(spans), headers=JSON)
    assert (response.status, json_of(response)) == (200, {})
    trace = json_of(admin.get(f"/api/traces/{TRACE}"))
    assert trace["trace_id"] == TRACE
    assert [(s["span_id"], s["parent_span_id"]) for s in trace["spans"]] == [(ROOT, None), (CHILD, ROOT)]
    assert [s["duration_ms"] for s in trace["spans"]] == [250.0, 119.999001]  # exact to the nanosecond
    assert trace["summary"]["route"] == "/orders/{id}" and trace["summary"]["span_count"] == 2


def test_a_cumulative_counter_becomes_deltas_and_a_reset_counts_from_zero(
    ingest: GatewayClient, admin: GatewayClient, clock: FrozenClock
) -> None:
    first_start = ns(clock, -3600)  # running before Vigil started: its first total is only the baseline
    for value, start in ((100, first_start), (130, first_start), (4, ns(clock, 25))):
        clock.advance(10)
        response = ingest.post("/v1/metrics", body=cumulative_sum_json(value, start, ns(clock)), headers=JSON)
        assert (response.status, json_of(response)) == (200, {})
    assert sum(series_values(admin, "orders.created", "sum")) == 30 + 4


class FailsOnce:
    """The real store, except that its first sample write raises the store's own `Unavailable`."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.failures = 1

    def put_samples(self, *args: Any, **kwargs: Any) -> bool:
        if self.failures:
            self.failures -= 1
            raise Unavailable("the SQLite store is busy: database is locked")
        return bool(self.real.put_samples(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_a_counter_export_the_store_refused_is_counted_whole_when_the_exporter_retries(
    ctx: AppContext, ingest: GatewayClient, admin: GatewayClient, clock: FrozenClock
) -> None:
    start = ns(clock, 1)  # the app started after Vigil: its first total counts whole (10)

    def export(value: int) -> int:
        body = cumulative_sum_json(value, start, ns(clock))
        return ingest.post("/v1/metrics", body=body, headers=JSON).status

    clock.advance(10)
    assert export(10) == 200
    ctx._store = FailsOnce(ctx.store)
    clock.advance(10)
    assert export(25) == 503  # the exporter keeps the export and sends it again
    assert export(25) == 200
    clock.advance(10)
    assert export(30) == 200
    assert sum(series_values(admin, "orders.created", "sum")) == 10 + 15 + 5


@pytest.mark.parametrize(
    ("path", "body", "headers"),
    [
        ("/v1/metrics", b"\xff\xff\xff\xff garbage", PB),
        ("/v1/traces", b"\x0a\x05\x0a", PB),  # truncated protobuf
        ("/v1/metrics", b'{"resourceMetrics": [', JSON),
        ("/v1/metrics", b"[1, 2]", JSON),
        ("/v1/traces", gzip.compress(b"{}")[:-6], {**JSON, "content-encoding": "gzip"}),
        ("/v1/traces", b"\x00\x01 not gzip", {**PB, "content-encoding": "gzip"}),
    ],
    ids=[
        "garbage-pb",
        "truncated-pb",
        "broken-json",
        "json-array",
        "truncated-gzip",
        "not-gzip",
    ],
)
def test_an_undecodable_body_is_a_400_naming_the_body_never_a_500(
    ingest: GatewayClient, path: str, body: bytes, headers: dict[str, str]
) -> None:
    response = ingest.post(path, body=body, headers=headers)
    assert response.status == 400, response.body
    assert json_of(response)["error"]["code"] == "invalid"


@pytest.mark.parametrize(
    "headers",
    [{"content-type": "text/plain"}, {"content-type": "application/xml"}, {**PB, "content-encoding": "br"}],
)
def test_another_content_type_or_encoding_is_a_415(ingest: GatewayClient, headers: dict[str, str]) -> None:
    response = ingest.post("/v1/metrics", body=b"{}", headers=headers)
    assert response.status == 415
    assert json_of(response)["error"]["code"] == "unsupported_media_type"


def test_an_oversize_body_is_a_413_and_so_is_a_gzip_bomb(ingest: GatewayClient) -> None:
    big = ingest.post("/v1/traces", body=b"\x00" * (4 * 1024 * 1024 + 1), headers=PB)
    assert (big.status, json_of(big)["error"]["code"]) == (413, "too_large")
    bomb = gzip.compress(b" " * (9 * 1024 * 1024))  # ~9 KB on the wire, 9 MiB inflated
    response = ingest.post("/v1/metrics", body=bomb, headers={**JSON, "content-encoding": "gzip"})
    assert (response.status, json_of(response)["error"]["code"]) == (413, "too_large")


def test_otlp_routes_need_an_ingest_key(anonymous: GatewayClient, viewer: GatewayClient) -> None:
    body = gauge_request([]).SerializeToString()
    for path in ("/v1/metrics", "/v1/traces"):
        response = anonymous.post(path, body=body, headers=PB)
        assert response.status == 401 and response.header("WWW-Authenticate")
        assert viewer.post(path, body=body, headers=PB).status in (401, 403)


class ThrottledTraces:
    def put_spans(self, spans: Sequence[Span], now: float) -> None:
        raise Unavailable("ProvisionedThroughputExceededException after retries")

    def list_traces(self, *args: Any, **kwargs: Any) -> list[TraceSummary]:
        return []

    def get_trace(self, trace_id: str, now: float | None = None) -> list[Span]:
        return []

    def purge_expired(self, now: float) -> int:
        return 0


def test_a_throttled_store_is_a_503_with_retry_after_so_exporters_retry(
    ctx: AppContext, ingest: GatewayClient, clock: FrozenClock
) -> None:
    ctx._trace_store = ThrottledTraces()
    start = ns(clock, -1)
    response = ingest.post("/v1/traces", body=traces_body([span(ROOT, start, start + 1000)]), headers=JSON)
    assert response.status == 503
    assert response.header("Retry-After") is not None
    assert json_of(response)["error"]["code"] == "unavailable"


def test_the_trace_list_filters_by_service_route_status_duration_and_time(
    ingest: GatewayClient, admin: GatewayClient, clock: FrozenClock
) -> None:
    start = ns(clock, -60)
    fast_ok = {**span(ROOT, start, start + 5_000_000), "traceId": "1" * 32}
    slow_error = {
        **span(ROOT, start + 10**9, start + 10**9 + 900_000_000, status={"code": 2}),
        "traceId": "2" * 32,
        "attributes": [attr("http.route", "/pay")],
    }
    assert ingest.post("/v1/traces", body=traces_body([fast_ok, slow_error]), headers=JSON).status == 200
    other = {**span(ROOT, start, start + 1_000_000), "traceId": "3" * 32}
    assert ingest.post("/v1/traces", body=traces_body([other], service="billing"), headers=JSON).status == 200

    def ids(**params: Any) -> list[str]:
        response = admin.get("/api/traces", params=params)
        assert response.status == 200, response.body
        return [t["trace_id"] for t in json_of(response)["traces"]]

    everything = ids()
    assert set(everything) == {"1" * 32, "2" * 32, "3" * 32} and everything[0] == "2" * 32  # newest first
    assert ids(service="shop", status="error") == ["2" * 32]
    assert ids(service="shop", status="ok") == ["1" * 32]
    assert ids(route="/pay") == ["2" * 32]
    assert ids(min_duration_ms=500) == ["2" * 32]
    assert ids(**{"from": "-30s"}) == []
    assert len(ids(limit=1)) == 1
    assert json_of(admin.get(f"/api/traces/{'2' * 32}"))["spans"][0]["error"] is True


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 501}, "limit"), ({"status": "failed"}, "status"), ({"from": "yesterday"}, "from")],
)
def test_bad_trace_list_parameters_are_400s_naming_the_field(
    admin: GatewayClient, params: dict[str, Any], field: str
) -> None:
    response = admin.get("/api/traces", params=params)
    assert response.status == 400
    assert json_of(response)["error"]["field"] == field


def test_a_malformed_trace_id_is_a_400_and_an_unknown_one_a_404(admin: GatewayClient) -> None:
    bad = admin.get("/api/traces/" + "Z" * 32)
    assert (bad.status, json_of(bad)["error"]["field"]) == (400, "trace_id")
    missing = admin.get("/api/traces/" + "a" * 32)
    assert (missing.status, json_of(missing)["error"]["code"]) == (404, "not_found")


def test_the_trace_api_needs_a_viewer(anonymous: GatewayClient, viewer: GatewayClient) -> None:
    assert anonymous.get("/api/traces").status == 401
    assert viewer.get("/api/traces").status == 200


def test_a_protobuf_trace_export_is_answered_with_an_empty_protobuf_response(
    ingest: GatewayClient, admin: GatewayClient, clock: FrozenClock
) -> None:
    request = ExportTraceServiceRequest()
    pb_span = request.resource_spans.add().scope_spans.add().spans.add()
    start = ns(clock, -1)
    pb_span.trace_id, pb_span.span_id = bytes.fromhex(TRACE), bytes.fromhex(ROOT)
    pb_span.name, pb_span.start_time_unix_nano, pb_span.end_time_unix_nano = "job", start, start + 1000
    response = ingest.post("/v1/traces", body=request.SerializeToString(), headers=PB)
    assert (response.status, response.header("content-type")) == (200, "application/x-protobuf")
    assert response.body == b""  # an ExportTraceServiceResponse with nothing to report
    assert ExportTraceServiceResponse.FromString(response.body) == ExportTraceServiceResponse()
    [listed] = json_of(admin.get("/api/traces"))["traces"]
    assert (listed["trace_id"], listed["service"], listed["duration_ms"]) == (TRACE, "unknown_service", 0.001)
