"""OTLP/HTTP receiver routes (ingest key): `POST /v1/metrics`, `POST /v1/traces`.

The body is protobuf or OTLP/JSON, gzip or not, so these routes declare no Powertools `Body()` (which
would parse JSON and document one media type): they hand the raw bytes and the Content-Type /
Content-Encoding headers to `vigil.services.otlp`, and document both media types through
`docs.raw_request_body`. That service is imported on the first OTLP request: its protobuf decoder is
~140 M instructions that the metrics function's other cold starts (`/v1/samples`, queries) skip. The
key check and the 4 MiB raw-body limit (413) ran before Powertools, in `FunctionEntry`. The 200 answer
is the OTLP Export*ServiceResponse in the request's encoding; a protobuf answer is bytes, which
Powertools base64-encodes with `isBase64Encoded` (API Gateway and the local gateway decode it back).
Errors use Vigil's JSON error shape (see docs/otlp.md).
"""

# Route modules import Powertools at module level: its validation reads the annotations, which
# must resolve at registration time (no `from __future__ import annotations` here).
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseContentSchema

from vigil.api.app import raw_body, vigil_context
from vigil.api.docs import ERROR_RESPONSES
from vigil.api.openapi_bodies import raw_request_body

_PROTOBUF: OpenAPIResponseContentSchema = {"schema": {"type": "string", "format": "binary"}}
_ANY_VALUE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "stringValue": {"type": "string"},
        "boolValue": {"type": "boolean"},
        "intValue": {"type": ["string", "integer"]},
        "doubleValue": {"type": "number"},
    },
}
_ATTRIBUTES: dict[str, Any] = {
    "type": "array",
    "items": {"type": "object", "properties": {"key": {"type": "string"}, "value": _ANY_VALUE}},
}
_RESOURCE = {"type": "object", "properties": {"attributes": _ATTRIBUTES}}
_NANOS = {"type": ["string", "integer"], "description": "Epoch nanoseconds"}
_NUMBER_POINT = {
    "type": "object",
    "properties": {
        "attributes": _ATTRIBUTES,
        "startTimeUnixNano": _NANOS,
        "timeUnixNano": _NANOS,
        "asDouble": {"type": "number"},
        "asInt": {"type": ["string", "integer"]},
    },
}
_HISTOGRAM_POINT = {
    "type": "object",
    "properties": {
        "attributes": _ATTRIBUTES,
        "startTimeUnixNano": _NANOS,
        "timeUnixNano": _NANOS,
        "count": {"type": ["string", "integer"]},
        "sum": {"type": "number"},
        "bucketCounts": {"type": "array", "items": {"type": ["string", "integer"]}},
        "explicitBounds": {"type": "array", "items": {"type": "number"}},
    },
}
_METRIC = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "unit": {"type": "string"},
        "gauge": {"type": "object", "properties": {"dataPoints": {"type": "array", "items": _NUMBER_POINT}}},
        "sum": {
            "type": "object",
            "properties": {
                "dataPoints": {"type": "array", "items": _NUMBER_POINT},
                "aggregationTemporality": {"type": "integer", "enum": [0, 1, 2]},
                "isMonotonic": {"type": "boolean"},
            },
        },
        "histogram": {
            "type": "object",
            "properties": {
                "dataPoints": {"type": "array", "items": _HISTOGRAM_POINT},
                "aggregationTemporality": {"type": "integer", "enum": [0, 1, 2]},
            },
        },
    },
}
_SPAN = {
    "type": "object",
    "properties": {
        "traceId": {"type": "string", "description": "32 hex characters (OTLP/JSON ids are hex)"},
        "spanId": {"type": "string", "description": "16 hex characters"},
        "parentSpanId": {"type": "string"},
        "name": {"type": "string"},
        "kind": {"type": "integer", "enum": [0, 1, 2, 3, 4, 5]},
        "startTimeUnixNano": _NANOS,
        "endTimeUnixNano": _NANOS,
        "attributes": _ATTRIBUTES,
        "status": {"type": "object", "properties": {"code": {"type": "integer", "enum": [0, 1, 2]}}},
    },
}


def _export_request(
    resource_key: str, scope_key: str, items_key: str, item: dict[str, Any]
) -> dict[str, Any]:
    scope = {"type": "object", "properties": {items_key: {"type": "array", "items": item}}}
    resource = {
        "type": "object",
        "properties": {"resource": _RESOURCE, scope_key: {"type": "array", "items": scope}},
    }
    return {"type": "object", "properties": {resource_key: {"type": "array", "items": resource}}}


def _export_response(rejected_key: str) -> dict[str, Any]:
    partial = {
        "type": "object",
        "properties": {rejected_key: {"type": ["string", "integer"]}, "errorMessage": {"type": "string"}},
    }
    return {"type": "object", "properties": {"partialSuccess": partial}}


def _responses(rejected_key: str) -> dict[int, OpenAPIResponse]:
    ok: OpenAPIResponse = {
        "description": "Export*ServiceResponse in the request's encoding; `partial_success` when points or "
        "spans were rejected",
        "content": {
            "application/x-protobuf": _PROTOBUF,
            "application/json": {"schema": _export_response(rejected_key)},
        },
    }
    return {200: ok, **ERROR_RESPONSES}


def _request_body(name: str, json_schema: dict[str, Any]) -> dict[str, Any]:
    return raw_request_body(
        {"application/x-protobuf": _PROTOBUF, "application/json": {"schema": json_schema}},
        f"An OTLP {name} (protobuf or OTLP/JSON with hex ids), optionally `Content-Encoding: gzip`",
    )


def _answer(body: bytes, content_type: str) -> Response[str | bytes]:
    if content_type == "application/json":
        return Response(200, content_type, body.decode("utf-8"))
    return Response(200, content_type, body)  # bytes: Powertools answers base64 + isBase64Encoded


def _headers(app: APIGatewayHttpResolver) -> tuple[str | None, str | None]:
    headers = app.current_event.headers  # lower-case names (API Gateway HTTP API, local gateway)
    return headers.get("content-type"), headers.get("content-encoding")


def register(app: APIGatewayHttpResolver) -> None:
    @app.post(
        "/v1/metrics",
        tags=["ingest"],
        summary="OTLP/HTTP metrics export (protobuf or JSON)",
        responses=_responses("rejectedDataPoints"),
        enable_validation=False,  # nothing to validate: no parameters, and the body is ours to decode
        openapi_extensions=_request_body(
            "ExportMetricsServiceRequest",
            _export_request("resourceMetrics", "scopeMetrics", "metrics", _METRIC),
        ),
    )
    def post_otlp_metrics() -> Response[str | bytes]:
        from vigil.services.otlp import ingest_otlp_metrics  # protobuf: only when OTLP arrives

        ctx = vigil_context(app)
        content_type, content_encoding = _headers(app)
        body, answer_type = ingest_otlp_metrics(
            ctx.store,
            ctx.config,
            ctx.otlp_state,
            raw_body(app.current_event.raw_event),
            content_type,
            content_encoding,
            ctx.clock.now(),
            ctx.changes,
        )
        return _answer(body, answer_type)

    @app.post(
        "/v1/traces",
        tags=["ingest"],
        summary="OTLP/HTTP traces export (protobuf or JSON)",
        responses=_responses("rejectedSpans"),
        enable_validation=False,
        openapi_extensions=_request_body(
            "ExportTraceServiceRequest", _export_request("resourceSpans", "scopeSpans", "spans", _SPAN)
        ),
    )
    def post_otlp_traces() -> Response[str | bytes]:
        from vigil.services.otlp import ingest_otlp_traces

        ctx = vigil_context(app)
        content_type, content_encoding = _headers(app)
        body, answer_type = ingest_otlp_traces(
            ctx.store,
            ctx.trace_store,
            ctx.config,
            raw_body(app.current_event.raw_event),
            content_type,
            content_encoding,
            ctx.clock.now(),
        )
        return _answer(body, answer_type)
