"""The direct remote-write reader (`remote_write_columns.read_columns`) against the protobuf library:
on generated requests — label values with `,` `=` `\\` and any unicode, values 0.0, -0.0, NaN (stale
markers included) and ±Inf, negative and huge timestamps, fields left out when zero as proto3 encoders
do, labels after samples, native histograms, metadata — it takes the request and reads exactly the
series the library reads, bit for bit; on arbitrary bytes it either declines or agrees."""

from __future__ import annotations

import struct
from typing import Any

import cramjam
import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from tests.prom_wire import STALE_NAN, delimited, series, varint
from vigil.adapters.remote_write import _parsed, columns_of, decode_columns
from vigil.adapters.remote_write_columns import WireColumns, label_pairs, read_columns

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True)
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30) | st.sampled_from([",", "=", "\\"])
values = st.floats() | st.sampled_from([0.0, -0.0, STALE_NAN, float("inf"), -float("inf")])
times = st.integers(-(2**63), 2**63 - 1) | st.sampled_from([0, 1, 1_764_007_200_000])
labels = st.dictionaries(names, texts, max_size=6)
samples = st.lists(st.tuples(times, values), max_size=6)


def _proto3_sample(ts: int, value: float) -> bytes:
    """A Sample as Go's and most encoders write it: a field equal to zero is left out."""
    out = b""
    if struct.pack("<d", value) != b"\0" * 8:
        out += varint(1 << 3 | 1) + struct.pack("<d", value)
    if ts:
        out += varint(2 << 3 | 0) + varint(ts)
    return out


@st.composite
def requests(draw: Any) -> bytes:
    """An inflated WriteRequest of generated series, each in one of three encodings."""
    out = b""
    for _ in range(draw(st.integers(0, 5))):
        sent, kept, hist = draw(labels), draw(samples), draw(st.integers(0, 2))
        style = draw(st.sampled_from(["every field", "proto3", "labels last"]))
        if style == "every field":
            body = series(sent, kept, native_histograms=hist)
        else:
            fields = [
                delimited(1, delimited(1, k.encode()) + delimited(2, v.encode())) for k, v in sent.items()
            ]
            points = [delimited(2, _proto3_sample(ts, v)) for ts, v in kept]
            histograms = [delimited(4, varint(15 << 3 | 0) + varint(1))] * hist
            body = b"".join(points + fields if style == "labels last" else fields + points) + b"".join(
                histograms
            )
        out += delimited(1, body)
        if draw(st.booleans()):  # metadata (field 3): skipped by both
            out += delimited(3, delimited(4, b"help"))
    return out


def same(got: WireColumns, want: WireColumns) -> bool:
    return (
        [label_pairs(k) for k in got.keys] == [label_pairs(k) for k in want.keys]
        and got.bounds == want.bounds
        and got.native_histograms == want.native_histograms
        and np.array_equal(got.timestamps_ms, want.timestamps_ms)
        and np.array_equal(got.values.view(np.uint64), want.values.view(np.uint64))
    )


@given(requests())
def test_the_direct_reader_takes_every_encoders_request_and_reads_what_protobuf_reads(raw: bytes) -> None:
    got = read_columns(raw)
    assert got is not None
    assert same(got, columns_of(_parsed(raw)))


@given(st.binary(max_size=200) | requests().map(lambda r: r[: len(r) // 2]))
@example(b"\x00\x00")  # field number 0: corrupt for protobuf, once read here as an empty request
def test_on_any_bytes_the_direct_reader_declines_or_agrees_with_protobuf(raw: bytes) -> None:
    got = read_columns(raw)
    if got is not None:
        assert same(got, columns_of(_parsed(raw)))


def test_a_request_the_reader_declines_is_decoded_by_protobuf() -> None:
    odd = delimited(
        1, delimited(2, varint(2 << 3 | 0) + varint(5) + varint(1 << 3 | 1) + struct.pack("<d", 2.0))
    )
    assert read_columns(odd) is None  # timestamp before value: left to the library
    body = bytes(cramjam.snappy.compress_raw(odd))
    got = decode_columns(body, "application/x-protobuf", "snappy", 1 << 20)
    assert (got.timestamps_ms.tolist(), got.values.tolist()) == ([5], [2.0])
