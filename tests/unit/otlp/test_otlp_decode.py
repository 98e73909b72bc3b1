"""OTLP/HTTP body decoding: content types, gzip bounds, hex ids in JSON, bad bodies, responses."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from vigil.adapters.content_encoding import inflate
from vigil.adapters.otlp.decode import (
    decode_metrics,
    decode_traces,
    encode_metrics_response,
    encode_traces_response,
)
from vigil.adapters.otlp.metrics import map_metrics
from vigil.adapters.otlp.state import MemoryCumulativeState
from vigil.domain.errors import Invalid, TooLarge, UnsupportedMediaType

# Every character is valid base64 too: json_format alone would accept these and store other bytes.
TRACE_HEX = "5b8efff798038103d269b633813fc60c"
SPAN_HEX = "eee19b7ec3c1b174"
PARENT_HEX = "eee19b7ec3c1b173"


def span_json() -> dict[str, object]:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]},
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": TRACE_HEX,
                                "spanId": SPAN_HEX,
                                "parentSpanId": PARENT_HEX,
                                "name": "GET /",
                                "kind": 2,
                                "startTimeUnixNano": "1764190000000000000",
                                "endTimeUnixNano": "1764190000250000000",
                                "links": [{"traceId": TRACE_HEX, "spanId": PARENT_HEX}],
                                "futureField": {"ignored": True},
                            }
                        ]
                    }
                ],
            }
        ]
    }


def test_json_hex_ids_decode_to_the_exact_bytes_not_base64() -> None:
    req, enc, _ = decode_traces(json.dumps(span_json()).encode(), "application/json; charset=utf-8")
    span = req.resource_spans[0].scope_spans[0].spans[0]
    assert enc == "json"
    assert span.trace_id.hex() == TRACE_HEX
    assert span.span_id.hex() == SPAN_HEX
    assert span.parent_span_id.hex() == PARENT_HEX
    assert span.links[0].trace_id.hex() == TRACE_HEX
    assert span.end_time_unix_nano - span.start_time_unix_nano == 250_000_000


def test_json_with_a_malformed_hex_id_leaves_out_that_span_and_names_it() -> None:
    body = span_json()
    body["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["spanId"] = "xyz"  # type: ignore[index]
    req, _, unreadable = decode_traces(json.dumps(body).encode(), "application/json")
    assert list(req.resource_spans[0].scope_spans[0].spans) == []
    assert unreadable.count == 1
    assert "spans[0]: spanId must be a hex id" in next(iter(unreadable.reasons))


def test_gzip_protobuf_round_trips() -> None:
    req, _, _ = decode_traces(json.dumps(span_json()).encode(), "application/json")
    again, enc, _ = decode_traces(gzip.compress(req.SerializeToString()), "application/x-protobuf", "gzip")
    assert enc == "protobuf" and again == req


def test_gzip_bomb_is_refused_as_too_large_without_inflating_it() -> None:
    bomb = gzip.compress(b"\0" * (20 * 1024 * 1024))
    assert len(bomb) < 64 * 1024
    with pytest.raises(TooLarge):
        decode_metrics(bomb, "application/x-protobuf", "gzip", max_bytes=8 * 1024 * 1024)


def test_raw_body_over_the_limit_is_too_large() -> None:
    with pytest.raises(TooLarge):
        inflate(b"x" * 101, None, max_bytes=100)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/grpc", "multipart/form-data"])
def test_unknown_content_type_is_unsupported_media_type(content_type: str | None) -> None:
    with pytest.raises(UnsupportedMediaType) as info:
        decode_metrics(b"{}", content_type)
    assert info.value.code == "unsupported_media_type" and isinstance(info.value, Invalid)


def test_unknown_content_encoding_is_unsupported_media_type() -> None:
    with pytest.raises(UnsupportedMediaType):
        decode_metrics(b"{}", "application/json", "br")


@pytest.mark.parametrize(
    ("body", "content_type", "encoding"),
    [
        (b"\xff\xfe\x00garbage", "application/x-protobuf", None),
        (b"{not json", "application/json", None),
        (b"\xff\xfe", "application/json", None),
        (b"[1, 2]", "application/json", None),
        (b'{"resourceMetrics": 5}', "application/json", None),
        (b"not gzip at all", "application/x-protobuf", "gzip"),
        (gzip.compress(b"\x0a\x05abc", mtime=0)[:-6], "application/x-protobuf", "gzip"),
    ],
)
def test_undecodable_bodies_are_invalid_not_a_crash(
    body: bytes, content_type: str, encoding: str | None
) -> None:
    with pytest.raises(Invalid):
        decode_metrics(body, content_type, encoding)


def test_empty_body_is_an_empty_request() -> None:
    req, _, _ = decode_traces(b"", "application/x-protobuf")
    assert req == ExportTraceServiceRequest()


def test_responses_carry_partial_success_in_the_request_encoding() -> None:
    body, ctype = encode_metrics_response(3, "3 rejected: value is NaN or infinite", "json")
    assert ctype == "application/json"
    assert json.loads(body) == {
        "partialSuccess": {"rejectedDataPoints": "3", "errorMessage": "3 rejected: value is NaN or infinite"}
    }
    body, ctype = encode_metrics_response(2, "x", "protobuf")
    parsed = ExportMetricsServiceResponse.FromString(body)
    assert ctype == "application/x-protobuf" and parsed.partial_success.rejected_data_points == 2
    assert encode_traces_response(0, "", "json") == (b"{}", "application/json")
    assert encode_traces_response(0, "", "protobuf") == (b"", "application/x-protobuf")


NOW_NS = 1764190000 * 10**9
_BROKEN_POINTS = [
    {"asDouble": "four"},
    {"asInt": "1.5"},
    {"timeUnixNano": "soon", "asDouble": 1.0},
    {"attributes": "not a list", "asDouble": 1.0},
    "not an object",
    ["a", "list"],
]


@given(
    st.lists(
        st.one_of(
            st.floats(-1e300, 1e300).map(lambda v: ("ok", v)),
            st.sampled_from(range(len(_BROKEN_POINTS))).map(lambda i: ("broken", i)),
        ),
        max_size=12,
    )
)
@settings(max_examples=150, deadline=None)
def test_lenient_json_keeps_every_readable_point_in_order_and_counts_every_other(
    points: list[tuple[str, Any]],
) -> None:
    data_points = [
        {"asDouble": v, "timeUnixNano": str(NOW_NS)} if kind == "ok" else _BROKEN_POINTS[v]
        for kind, v in points
    ]
    doc = {
        "resourceMetrics": [
            {"scopeMetrics": [{"metrics": [{"name": "m", "gauge": {"dataPoints": data_points}}]}]}
        ]
    }
    req, _, unreadable = decode_metrics(json.dumps(doc).encode(), "application/json")
    result = map_metrics(req, NOW_NS / 1e9, MemoryCumulativeState(tracking_since=0.0))
    result.reject_unreadable(unreadable)
    assert [p.value for p in result.points] == [v for kind, v in points if kind == "ok"]
    assert result.rejected == sum(1 for kind, _ in points if kind == "broken")
