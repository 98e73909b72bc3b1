"""Prometheus remote-write 1.0 on the wire: a snappy-compressed (block format) protobuf
`prometheus.WriteRequest`. Decodes to columns (`decode_columns`: read directly by
`remote_write_columns` where the request has the usual shape, else through the protobuf library here);
the mapping to Vigil's hosts and metrics is `vigil.services.remote_write`.

The message classes are built at first use from a descriptor written here (the four messages and the
fields remote-write 1.0 sends), in a private descriptor pool: no generated code to keep in step and no
clash with another copy of `prompb` in the same process. Fields we do not read (exemplars, metadata)
are skipped by protobuf as unknown. Native histograms (`TimeSeries.histograms`) are reported so the
caller can refuse them by name rather than drop them.

snappy: cramjam (Rust), imported when a request arrives, so the functions that never receive
remote-write do not pay for it at cold start.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from functools import cache
from operator import attrgetter
from typing import Any

from vigil.adapters.remote_write_columns import WireColumns, read_columns
from vigil.domain.errors import Invalid, TooLarge, UnsupportedMediaType

# Prometheus' stale marker: a NaN with this exact bit pattern means "this series ended", not a value.
STALE_NAN_BITS = 0x7FF0000000000002
_TIMESTAMP, _VALUE = attrgetter("timestamp"), attrgetter("value")


@dataclass(frozen=True, slots=True)
class WireSeries:
    labels: dict[str, str]  # `__name__` included, as sent
    timestamps_ms: list[int]
    values: list[float]
    native_histograms: int  # how many native histogram samples the series carried (not decoded)


def _field(
    message: Any, name: str, number: int, kind: int, repeated: bool = False, type_name: str = ""
) -> None:
    from google.protobuf import descriptor_pb2 as pb

    label = pb.FieldDescriptorProto.LABEL_REPEATED if repeated else pb.FieldDescriptorProto.LABEL_OPTIONAL
    added = message.field.add(name=name, number=number, type=kind, label=label)
    if type_name:
        added.type_name = type_name


@cache
def _write_request_class() -> Any:
    from google.protobuf import descriptor_pb2 as pb
    from google.protobuf import descriptor_pool, message_factory

    t = pb.FieldDescriptorProto
    fd = pb.FileDescriptorProto(name="vigil/prompb_write.proto", package="vigil.prompb", syntax="proto3")
    label = fd.message_type.add(name="Label")
    _field(label, "name", 1, t.TYPE_STRING)
    _field(label, "value", 2, t.TYPE_STRING)
    sample = fd.message_type.add(name="Sample")
    _field(sample, "value", 1, t.TYPE_DOUBLE)
    _field(sample, "timestamp", 2, t.TYPE_INT64)
    histogram = fd.message_type.add(name="Histogram")  # only counted: its fields are not read
    _field(histogram, "timestamp", 15, t.TYPE_INT64)
    series = fd.message_type.add(name="TimeSeries")
    _field(series, "labels", 1, t.TYPE_MESSAGE, True, ".vigil.prompb.Label")
    _field(series, "samples", 2, t.TYPE_MESSAGE, True, ".vigil.prompb.Sample")
    _field(series, "histograms", 4, t.TYPE_MESSAGE, True, ".vigil.prompb.Histogram")
    request = fd.message_type.add(name="WriteRequest")
    _field(request, "timeseries", 1, t.TYPE_MESSAGE, True, ".vigil.prompb.TimeSeries")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("vigil.prompb.WriteRequest"))


def _uncompressed_length(block: bytes) -> int:
    """The varint a snappy block starts with: its uncompressed size, read before inflating it."""
    length, shift = 0, 0
    for i, byte in enumerate(block[:10]):
        length |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return length
        shift += 7
        if i == 4:
            break
    raise Invalid("the body is not a snappy block (its length header is unreadable)", field="body")


def inflate_snappy(body: bytes, limit: int) -> bytes:
    """The snappy block inflated, refusing one that claims more than `limit` bytes before inflating.

    Raises:
        TooLarge: the block would inflate past `limit`.
        Invalid: not a snappy block.
    """
    import cramjam

    size = _uncompressed_length(body)
    if size > limit:
        raise TooLarge(
            f"the body inflates to {size} bytes; the limit is {limit} — lower the sender's "
            "max_samples_per_send",
            field="body",
        )
    try:
        return bytes(cramjam.snappy.decompress_raw(body))
    except cramjam.DecompressionError as exc:
        raise Invalid(f"the body is not valid snappy: {exc}", field="body") from exc


def decode_columns(
    body: bytes,
    content_type: str | None,
    content_encoding: str | None,
    limit: int,
    known: Container[bytes] = (),
) -> WireColumns:
    """The request as columns (`remote_write_columns`): read directly where it has the usual shape,
    else through the protobuf library (`decode_write_request`'s answer and errors). `known`: label
    keys read well before.

    Raises:
        UnsupportedMediaType, TooLarge, Invalid: as `decode_write_request`.
    """
    raw = _inflated(body, content_type, content_encoding, limit)
    return read_columns(raw, known) or columns_of(_parsed(raw))


def columns_of(series: list[WireSeries]) -> WireColumns:
    """Series decoded by the protobuf library as columns, each label set as its canonical fields."""
    import numpy as np

    bounds = [0]
    for s in series:
        bounds.append(bounds[-1] + len(s.values))
    return WireColumns(
        [b"".join(_label_field(k, v) for k, v in s.labels.items()) for s in series],
        bounds,
        np.array([t for s in series for t in s.timestamps_ms], dtype=np.int64),
        np.array([v for s in series for v in s.values], dtype=np.float64),
        [s.native_histograms for s in series],
    )


def _label_field(name: str, value: str) -> bytes:
    def delimited(number: int, payload: bytes) -> bytes:
        return _varint(number << 3 | 2) + _varint(len(payload)) + payload

    return delimited(1, delimited(1, name.encode()) + delimited(2, value.encode()))


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def decode_write_request(
    body: bytes, content_type: str | None, content_encoding: str | None, limit: int
) -> list[WireSeries]:
    """Raises:
    UnsupportedMediaType: not `application/x-protobuf` with `Content-Encoding: snappy`.
    TooLarge: the inflated message would pass `limit` bytes.
    Invalid: unreadable snappy or protobuf.
    """
    return _parsed(_inflated(body, content_type, content_encoding, limit))


def _inflated(body: bytes, content_type: str | None, content_encoding: str | None, limit: int) -> bytes:
    ctype = (content_type or "application/x-protobuf").split(";")[0].strip().lower()
    if ctype != "application/x-protobuf":
        raise UnsupportedMediaType(
            f"remote-write sends application/x-protobuf, not {ctype!r}", field="content-type"
        )
    if (content_encoding or "snappy").strip().lower() != "snappy":
        raise UnsupportedMediaType(
            f"remote-write bodies are snappy-compressed, not {content_encoding!r}", field="content-encoding"
        )
    return inflate_snappy(body, limit)


def _parsed(raw: bytes) -> list[WireSeries]:
    """The inflated request through the protobuf library (upb).

    Raises:
        Invalid: not a WriteRequest.
    """
    from google.protobuf.message import DecodeError

    request = _write_request_class()()
    try:
        request.ParseFromString(raw)
    except DecodeError as exc:
        raise Invalid(f"the body is not a remote-write WriteRequest: {exc}", field="body") from exc
    out = []
    for series in request.timeseries:
        samples = list(series.samples)  # upb's wrappers made once, read by two C-level maps
        out.append(
            WireSeries(
                {label.name: label.value for label in series.labels},
                list(map(_TIMESTAMP, samples)),
                list(map(_VALUE, samples)),
                len(series.histograms),
            )
        )
    return out
