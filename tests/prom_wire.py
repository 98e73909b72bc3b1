"""A remote-write 1.0 request encoded byte by byte from the protobuf wire format (varints and
length-delimited fields), independently of `vigil.adapters.remote_write`'s descriptor: a test built
on the decoder's own message classes could not catch a wrong field number or type. `varint` and
`delimited` are also the building blocks of the peer benchmark's fast encoder (bench/peer_data.py)."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping

import cramjam

STALE_NAN = struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000002))[0]


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # int64 two's complement, as protobuf writes negative numbers
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def delimited(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def _sample(value: float, ts_ms: int) -> bytes:
    return varint(1 << 3 | 1) + struct.pack("<d", value) + varint(2 << 3 | 0) + varint(ts_ms)


def series(
    labels: Mapping[str, str], samples: Iterable[tuple[int, float]], native_histograms: int = 0
) -> bytes:
    """One `TimeSeries`: labels in the given order, (timestamp ms, value) samples."""
    out = b"".join(
        delimited(1, delimited(1, k.encode()) + delimited(2, v.encode())) for k, v in labels.items()
    )
    out += b"".join(delimited(2, _sample(v, ts)) for ts, v in samples)
    out += b"".join(delimited(4, varint(15 << 3 | 0) + varint(1)) for _ in range(native_histograms))
    return out


def write_request(*all_series: bytes) -> bytes:
    """A `WriteRequest` of the given encoded series, snappy-compressed (block format) as sent."""
    return bytes(cramjam.snappy.compress_raw(b"".join(delimited(1, s) for s in all_series)))


HEADERS = {
    "Content-Type": "application/x-protobuf",
    "Content-Encoding": "snappy",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}
