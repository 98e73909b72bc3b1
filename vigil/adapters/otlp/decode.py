"""OTLP/HTTP wire handling: decode export requests and encode export responses.

Bodies are `application/x-protobuf` or `application/json` (OTLP/JSON), optionally
`Content-Encoding: gzip`, decompressed with a hard output bound (`adapters.content_encoding.inflate`)
so a small gzip bomb cannot take the process's memory. OTLP/JSON writes trace and span ids as hex,
while protobuf's `json_format` reads `bytes` fields as base64 and would silently accept most hex
strings as (wrong) base64: ids are converted hex → base64 before `ParseDict`. Unknown JSON fields are
ignored (the OTLP spec requires it, for forward compatibility). Responses are encoded in the request's format.

Imports protobuf and opentelemetry-proto; must not import `vigil.api`, boto3 or sqlite3.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Generic, Literal, NamedTuple, TypeVar

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsPartialSuccess,
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from vigil.adapters.content_encoding import inflate
from vigil.adapters.otlp.lenient import Unreadable, parse_lenient
from vigil.domain.errors import Invalid, UnsupportedMediaType

Encoding = Literal["protobuf", "json"]
MAX_DECODED_BYTES = 8 * 1024 * 1024
PROTOBUF_TYPES = frozenset({"application/x-protobuf", "application/protobuf"})
JSON_TYPE = "application/json"

M = TypeVar("M", bound=Message)
_TOP_LISTS = ("resourceMetrics", "resource_metrics", "resourceSpans", "resource_spans")

_ID_BYTES = {"traceId": 16, "trace_id": 16, "spanId": 8, "span_id": 8, "parentSpanId": 8, "parent_span_id": 8}


def body_encoding(content_type: str | None) -> Encoding:
    """`protobuf` or `json` from a Content-Type header (parameters such as charset are ignored).

    Raises:
        UnsupportedMediaType: anything else (HTTP 415).
    """
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in PROTOBUF_TYPES:
        return "protobuf"
    if media == JSON_TYPE:
        return "json"
    raise UnsupportedMediaType(
        f"Content-Type must be application/x-protobuf or application/json, got {media or 'none'!r}",
        field="Content-Type",
    )


def _hex_to_b64(value: Any, size: int, path: str) -> Any:
    if not isinstance(value, str) or value == "":
        return value  # json_format reports non-strings itself; "" is the empty (absent) id
    try:
        raw = bytes.fromhex(value)
    except ValueError as exc:
        raise Invalid(f"{path} must be a hex id of {size} bytes, got {value[:40]!r}", field=path) from exc
    if len(raw) != size:
        raise Invalid(f"{path} must be a hex id of {size} bytes, got {len(raw)}", field=path)
    return base64.b64encode(raw).decode("ascii")


def _convert_ids(node: Any, path: str = "$") -> None:
    """Walk OTLP/JSON in place, rewriting every trace/span id (spans, links, exemplars) hex → base64.

    Ids only ever appear under these key names in OTLP, so a generic walk covers spans, span links and
    metric exemplars without listing their paths (and keeps up with future messages that reuse them).
    """
    if isinstance(node, dict):
        for key, value in node.items():
            size = _ID_BYTES.get(key)
            if size is not None:
                node[key] = _hex_to_b64(value, size, f"{path}.{key}")
            else:
                _convert_ids(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _convert_ids(item, f"{path}[{i}]")


class Decoded(NamedTuple, Generic[M]):
    """A decoded export: the request, its wire encoding, and the items that could not be read."""

    request: M
    encoding: Encoding
    unreadable: Unreadable


def _parse(raw: bytes, encoding: Encoding, message: M) -> Decoded[M]:
    """Protobuf is all or nothing (a broken message cannot be resynchronised: 400). OTLP/JSON is
    parsed whole, and when that fails, part by part (`lenient`), so only unreadable items are lost."""
    try:
        if encoding == "protobuf":
            message.ParseFromString(raw)
            return Decoded(message, encoding, Unreadable())
        data = json.loads(raw)
    except (DecodeError, ValueError, RecursionError) as exc:
        raise Invalid(f"undecodable OTLP {encoding} body: {str(exc)[:200]}", field="body") from exc
    if not isinstance(data, dict):
        raise Invalid("an OTLP/JSON body must be a JSON object", field="body")
    for key in _TOP_LISTS:
        if key in data and not isinstance(data[key], list):
            raise Invalid(f"undecodable OTLP json body: {key} must be a list", field="body")
    try:
        _convert_ids(data)
        json_format.ParseDict(data, message, ignore_unknown_fields=True)
        return Decoded(message, encoding, Unreadable())
    except (Invalid, json_format.ParseError, ValueError, TypeError, RecursionError):
        message.Clear()
    # ids were converted in place up to the failure: read the untouched document again
    return Decoded(message, encoding, parse_lenient(json.loads(raw), message, _convert_ids))


def decode_metrics(
    body: bytes,
    content_type: str | None,
    content_encoding: str | None = None,
    max_bytes: int = MAX_DECODED_BYTES,
) -> Decoded[ExportMetricsServiceRequest]:
    """Decode `POST /v1/metrics`; unreadable OTLP/JSON data points are left out and reported.

    Raises:
        UnsupportedMediaType: wrong Content-Type/Content-Encoding (415).
        TooLarge: over `max_bytes`, raw or inflated (413).
        Invalid: undecodable (400).
    """
    encoding = body_encoding(content_type)
    raw = inflate(body, content_encoding, max_bytes)
    return _parse(raw, encoding, ExportMetricsServiceRequest())


def decode_traces(
    body: bytes,
    content_type: str | None,
    content_encoding: str | None = None,
    max_bytes: int = MAX_DECODED_BYTES,
) -> Decoded[ExportTraceServiceRequest]:
    """Decode `POST /v1/traces`; unreadable spans are left out and reported. Raises as `decode_metrics`."""
    encoding = body_encoding(content_type)
    raw = inflate(body, content_encoding, max_bytes)
    return _parse(raw, encoding, ExportTraceServiceRequest())


def _encode(message: Message, encoding: Encoding) -> tuple[bytes, str]:
    if encoding == "protobuf":
        return message.SerializeToString(), "application/x-protobuf"
    return json.dumps(json_format.MessageToDict(message)).encode("utf-8"), JSON_TYPE


def encode_metrics_response(rejected: int, message: str, encoding: Encoding) -> tuple[bytes, str]:
    """(body, Content-Type) of the 200 answer. `partial_success` is set only when something was
    rejected or there is a warning message, as the OTLP spec asks."""
    response = ExportMetricsServiceResponse()
    if rejected or message:
        response.partial_success.CopyFrom(
            ExportMetricsPartialSuccess(rejected_data_points=rejected, error_message=message)
        )
    return _encode(response, encoding)


def encode_traces_response(rejected: int, message: str, encoding: Encoding) -> tuple[bytes, str]:
    """As `encode_metrics_response`, for `POST /v1/traces` (`rejected_spans`)."""
    response = ExportTraceServiceResponse()
    if rejected or message:
        response.partial_success.CopyFrom(
            ExportTracePartialSuccess(rejected_spans=rejected, error_message=message)
        )
    return _encode(response, encoding)


def hex_id(raw: bytes) -> str:
    """Lowercase hex of a protobuf id field ("" for an absent id)."""
    return binascii.hexlify(raw).decode("ascii")
