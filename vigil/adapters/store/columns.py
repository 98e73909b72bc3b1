"""The block codec: one series' samples of one time block as a small compressed byte string, decoded
into numpy arrays in a few C calls (the SQLite store's `blocks` table; docs/architecture.md, "Sample
storage").

A body is `<BBBBI` (format version, timestamp mode, value mode, decimal places, sample count) and then
one zstd frame (cramjam, already a dependency) holding the timestamps' part and the values' part:
- timestamps: whole milliseconds (nearly always) as delta-of-delta int64 — a steady interval is all
  zeros — else the float64s themselves;
- values: when every value is an integer of at most 15 digits divided by 10^k (k <= 9), and dividing
  gives the very same float back (checked bit for bit, -0.0 fails it), those integers as deltas, which
  a gauge's slow changes turn into small numbers zstd packs into a byte or less (VictoriaMetrics'
  idea); else the float64 bit patterns XORed with the previous one (Gorilla's idea: equal high bytes
  become zeros) and byte-shuffled so zstd sees the zeros together.
Decoding returns the exact floats that were encoded, whatever they are (property-tested).
numpy and cramjam only; must not import `vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import struct

import cramjam
import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
FORMAT = 1
_HEAD = struct.Struct("<BBBBI")
_TS_MILLIS, _TS_FLOATS = 0, 1
_V_DECIMAL, _V_XOR = 0, 1
_MAX_PLACES = 9
_MAX_INT = 10**15  # decimal mode's integers stay exact in float64 (< 2^53) with room to spare
ZSTD_LEVEL = 3


def encode(ts: Floats, values: Floats) -> bytes:
    """Timestamps (ascending) and values of one block as a body. Raises ValueError on unequal
    lengths."""
    n = len(ts)
    if len(values) != n:
        raise ValueError(f"{n} timestamps but {len(values)} values")
    ts_mode, ts_part = _encode_times(np.ascontiguousarray(ts, dtype=np.float64))
    v_mode, places, v_part = _encode_values(np.ascontiguousarray(values, dtype=np.float64))
    packed = bytes(cramjam.zstd.compress(ts_part + v_part, level=ZSTD_LEVEL))
    return _HEAD.pack(FORMAT, ts_mode, v_mode, places, n) + packed


def decode(body: bytes) -> tuple[Floats, Floats]:
    """(timestamps, values) of a body. Raises ValueError for an unknown format version."""
    version, ts_mode, v_mode, places, n = _HEAD.unpack_from(body)
    if version != FORMAT:
        raise ValueError(f"unknown block format {version}")
    raw = np.frombuffer(bytes(cramjam.zstd.decompress(body[_HEAD.size :])), dtype=np.uint8)
    ts_raw, v_raw = raw[: 8 * n], raw[8 * n :]
    if ts_mode == _TS_MILLIS:
        ts = np.cumsum(np.cumsum(ts_raw.view(np.int64))) / 1000.0
    else:
        ts = ts_raw.view(np.float64).copy()
    if v_mode == _V_DECIMAL:
        ints = np.cumsum(v_raw.view(np.int64)).astype(np.float64)
        values = ints / 10.0**places if places else ints
    else:
        xored = v_raw.reshape(8, n).T.copy().view(np.uint64).ravel()  # un-shuffle the bytes
        values = np.bitwise_xor.accumulate(xored).view(np.float64)
    return ts, values


def _encode_times(ts: Floats) -> tuple[int, bytes]:
    millis = np.rint(ts * 1000.0)
    if len(ts) and np.all(np.abs(millis) < 2**53) and np.array_equal(millis / 1000.0, ts):
        ints = millis.astype(np.int64)
        return _TS_MILLIS, np.diff(np.diff(ints, prepend=0), prepend=0).tobytes()
    return _TS_FLOATS, ts.tobytes()


def _encode_values(values: Floats) -> tuple[int, int, bytes]:
    bits = values.view(np.int64)
    finite = bool(np.all(np.isfinite(values)))
    for places in range(_MAX_PLACES + 1) if finite and len(values) else ():
        scaled = np.rint(values * 10.0**places)
        if np.any(np.abs(scaled) >= _MAX_INT):
            break
        back = scaled / 10.0**places if places else scaled
        if np.array_equal(back.view(np.int64), bits):
            ints = scaled.astype(np.int64)
            return _V_DECIMAL, places, np.diff(ints, prepend=0).tobytes()
    u = values.view(np.uint64)
    xored = np.bitwise_xor(u, np.concatenate(([np.uint64(0)], u[:-1])))
    shuffled = xored.view(np.uint8).reshape(len(values), 8).T  # byte k of every value together
    return _V_XOR, 0, shuffled.tobytes()
