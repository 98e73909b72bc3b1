"""Decoding Prometheus remote-write bodies: whatever labels and samples a sender encodes come back
exactly (property), stale markers and native histograms are recognised, and bad or oversized bodies
are refused by name before anything is inflated past the limit."""

from __future__ import annotations

import math

import cramjam
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.prom_wire import STALE_NAN, series, write_request
from vigil.adapters.remote_write import decode_write_request
from vigil.domain.errors import Invalid, TooLarge, UnsupportedMediaType

LIMIT = 1 << 20
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True)
values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)  # `,` `=` unicode included
wire_series = st.tuples(
    st.dictionaries(names, values, min_size=1, max_size=6),
    st.lists(st.tuples(st.integers(-(2**62), 2**62), st.floats(allow_nan=False)), max_size=5),
)


def decode(body: bytes) -> list:  # type: ignore[type-arg]
    return decode_write_request(body, "application/x-protobuf", "snappy", LIMIT)


@given(st.lists(wire_series, max_size=5))
def test_every_label_and_sample_a_sender_encodes_decodes_exactly(sent: list) -> None:  # type: ignore[type-arg]
    got = decode(write_request(*(series(labels, samples) for labels, samples in sent)))
    assert [(s.labels, list(zip(s.timestamps_ms, s.values, strict=True))) for s in got] == [
        (labels, samples) for labels, samples in sent
    ]


def test_a_stale_marker_keeps_its_bit_pattern_and_native_histograms_are_counted() -> None:
    (got,) = decode(write_request(series({"__name__": "up"}, [(1, STALE_NAN)], native_histograms=2)))
    assert math.isnan(got.values[0]) and got.native_histograms == 2


def test_a_body_that_claims_to_inflate_past_the_limit_is_refused_before_inflating() -> None:
    bomb = bytes(cramjam.snappy.compress_raw(b"\0" * (LIMIT + 1)))
    with pytest.raises(TooLarge) as refused:
        decode(bomb)
    assert refused.value.field == "body"


@pytest.mark.parametrize("body", [b"", b"\xff\xff\xff\xff\xff\xff", b"\x05abc", write_request(b"\x0a\xff")])
def test_unreadable_snappy_or_protobuf_is_invalid_body(body: bytes) -> None:
    with pytest.raises(Invalid) as refused:
        decode(body)
    assert refused.value.field == "body"


@pytest.mark.parametrize(
    ("ctype", "encoding", "field"),
    [("application/json", "snappy", "content-type"), ("application/x-protobuf", "gzip", "content-encoding")],
)
def test_other_media_types_and_encodings_are_415_naming_the_header(
    ctype: str, encoding: str, field: str
) -> None:
    with pytest.raises(UnsupportedMediaType) as refused:
        decode_write_request(write_request(), ctype, encoding, LIMIT)
    assert refused.value.field == field
