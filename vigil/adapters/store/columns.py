"""The block codec: one series' samples of one time block as a small byte string, decoded into numpy
arrays in a few C calls (the SQLite store's `blocks` table; docs/architecture.md, "Sample storage").

A body (format 2) is `<BBBBIB` (format version, timestamp mode, value mode, decimal places, sample
count, flags) and then the timestamps' part and the values' part, zstd-compressed (cramjam) only when
that saves an eighth or more (flag bit 0) — a frame costs ~10-40 µs to open, more than reading a
steady gauge's block bytes as they are:
- timestamps: whole milliseconds (nearly always) at a regular interval as just the first one and the
  interval (16 bytes); else the first two and then the delta-of-delta integers in the narrowest of
  1/2/4/8 bytes that holds them all; else the float64s themselves;
- values: when every value is an integer of at most 15 digits divided by 10^k (k <= 9), and dividing
  gives the very same float back (checked bit for bit, -0.0 fails it), the first integer and then
  the deltas in the narrowest width (a gauge's slow changes: one byte each; VictoriaMetrics' idea);
  else the float64 bit patterns XORed with the previous one (Gorilla's idea: equal high bytes become
  zeros) and byte-shuffled so zstd sees the zeros together.
Format 1 bodies (`<BBBBI`, always one zstd frame, deltas as int64; it stored -0.0 as 0.0 in decimal
mode) are still read.
Decoding returns the exact floats that were encoded, whatever they are (property-tested).
numpy and cramjam only; must not import `vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import cramjam
import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
FORMAT = 2
_HEAD_V1 = struct.Struct("<BBBBI")
_HEAD = struct.Struct("<BBBBIB")
_TS_MILLIS, _TS_FLOATS, _TS_REGULAR = 0, 1, 2
_V_DECIMAL, _V_XOR = 0, 1
_ZSTD = 1
_MAX_PLACES = 9
_MAX_INT = 10**15  # decimal mode's integers stay exact in float64 (< 2^53) with room to spare
_WIDTHS = (np.int8, np.int16, np.int32, np.int64)  # mode bits 4-5: the integers' width
ZSTD_LEVEL = 3


def encode(ts: Floats, values: Floats) -> bytes:
    """Timestamps (ascending) and values of one block as a body. Raises ValueError on unequal
    lengths."""
    n = len(ts)
    if len(values) != n:
        raise ValueError(f"{n} timestamps but {len(values)} values")
    ts_mode, ts_part = _encode_times(np.ascontiguousarray(ts, dtype=np.float64))
    v_mode, places, v_part = _encode_values(np.ascontiguousarray(values, dtype=np.float64))
    payload = ts_part + v_part
    packed = bytes(cramjam.zstd.compress(payload, level=ZSTD_LEVEL))
    flags, body = (_ZSTD, packed) if len(packed) * 8 <= len(payload) * 7 else (0, payload)
    return _HEAD.pack(FORMAT, ts_mode, v_mode, places, n, flags) + body


def decode(body: bytes) -> tuple[Floats, Floats]:
    """(timestamps, values) of a body. Raises ValueError for an unknown format version."""
    version = body[0]
    if version == 1:
        return _decode_v1(body)
    if version != FORMAT:
        raise ValueError(f"unknown block format {version}")
    _, ts_mode, v_mode, places, n, flags = _HEAD.unpack_from(body)
    data = body[_HEAD.size :]
    if flags & _ZSTD:
        data = bytes(cramjam.zstd.decompress(data))
    raw = np.frombuffer(data, dtype=np.uint8)
    kind = ts_mode & 0x0F
    if kind == _TS_REGULAR:
        first, step = raw[:16].view(np.int64).tolist()
        ts = (first + step * np.arange(n, dtype=np.int64)) / 1000.0
        at = 16
    elif kind == _TS_MILLIS:  # the first two times, then the deltas' deltas
        width = _WIDTHS[ts_mode >> 4]
        head = min(n, 2)
        at = 8 * head + max(n - 2, 0) * np.dtype(width).itemsize
        first = raw[: 8 * head].view(np.int64)
        dod = raw[8 * head : at].view(width)
        steps = np.concatenate((first[1:] - first[:1], dod)).astype(np.int64)
        ts = np.concatenate((first[:1], first[0] + np.cumsum(np.cumsum(steps)))) / 1000.0
    else:
        at = 8 * n
        ts = raw[:at].view(np.float64).copy()
    v_raw = raw[at:]
    if v_mode & 0x0F == _V_DECIMAL:  # the first integer, then the deltas
        deltas = np.concatenate((v_raw[:8].view(np.int64), v_raw[8:].view(_WIDTHS[v_mode >> 4])))
        ints = np.cumsum(deltas, dtype=np.int64).astype(np.float64)
        values = ints / 10.0**places if places else ints
    else:
        xored = v_raw.reshape(8, n).T.copy().view(np.uint64).ravel()  # un-shuffle the bytes
        values = np.bitwise_xor.accumulate(xored).view(np.float64)
    return ts, values


def decode_many(bodies: Sequence[bytes]) -> tuple[Ints, Floats, Floats]:
    """(samples per body, timestamps, values) of `bodies`, the samples concatenated in body order: the
    same floats as `decode` of each. Bodies of the common shape — regular timestamps, decimal values,
    uncompressed, the same sample count, decimal places and integer width (a steady gauge's full
    blocks) — are decoded together as one (bodies x samples) array; the others one by one. A 24 h
    series is 13 blocks, a per-host 24 h query over 100 hosts 1,300: one by one, their numpy calls
    were most of the read."""
    decoded: dict[int, tuple[Floats, Floats]] = {}  # body index -> its (timestamps, values)
    shapes: dict[bytes, list[int]] = {}
    for i, body in enumerate(bodies):
        head = body[: _HEAD.size]
        if (
            len(head) == _HEAD.size
            and head[0] == FORMAT
            and head[1] == _TS_REGULAR
            and head[2] & 0x0F == _V_DECIMAL
            and not head[8] & _ZSTD
        ):
            shapes.setdefault(head + len(body).to_bytes(4, "little"), []).append(i)
    for key, which in shapes.items():
        if len(which) < 2:
            continue
        _, _, v_mode, places, n, _ = _HEAD.unpack_from(key)
        raw = np.frombuffer(b"".join(bodies[i][_HEAD.size :] for i in which), dtype=np.uint8)
        raw = raw.reshape(len(which), -1)
        first_step = np.ascontiguousarray(raw[:, :16]).view(np.int64)  # (bodies, 2): first, step
        ts = (first_step[:, :1] + first_step[:, 1:] * np.arange(n, dtype=np.int64)) / 1000.0
        ints = np.empty((len(which), n), dtype=np.int64)
        ints[:, 0] = np.ascontiguousarray(raw[:, 16:24]).view(np.int64)[:, 0]
        ints[:, 1:] = np.ascontiguousarray(raw[:, 24:]).view(_WIDTHS[v_mode >> 4])
        values = np.cumsum(ints, axis=1, dtype=np.int64).astype(np.float64)
        values = values / 10.0**places if places else values
        decoded.update((i, (ts[row], values[row])) for row, i in enumerate(which))
    parts = [decoded.get(i) or decode(body) for i, body in enumerate(bodies)]
    counts = np.array([len(t) for t, _ in parts], dtype=np.int64)
    if not parts:
        return counts, np.empty(0), np.empty(0)
    return counts, np.concatenate([t for t, _ in parts]), np.concatenate([v for _, v in parts])


def _decode_v1(body: bytes) -> tuple[Floats, Floats]:
    _, ts_mode, v_mode, places, n = _HEAD_V1.unpack_from(body)
    raw = np.frombuffer(bytes(cramjam.zstd.decompress(body[_HEAD_V1.size :])), dtype=np.uint8)
    ts_raw, v_raw = raw[: 8 * n], raw[8 * n :]
    if ts_mode == _TS_MILLIS:
        ts = np.cumsum(np.cumsum(ts_raw.view(np.int64))) / 1000.0
    else:
        ts = ts_raw.view(np.float64).copy()
    if v_mode == _V_DECIMAL:
        ints = np.cumsum(v_raw.view(np.int64)).astype(np.float64)
        return ts, ints / 10.0**places if places else ints
    xored = v_raw.reshape(8, n).T.copy().view(np.uint64).ravel()
    return ts, np.bitwise_xor.accumulate(xored).view(np.float64)


def narrow(ints: Ints) -> tuple[int, bytes]:
    """The width code (index into `_WIDTHS`) and bytes of `ints` in the narrowest width holding them."""
    lo, hi = (int(ints.min()), int(ints.max())) if len(ints) else (0, 0)
    for code, width in enumerate(_WIDTHS):
        bound = 1 << (8 * np.dtype(width).itemsize - 1)
        if -bound <= lo and hi < bound:
            return code, ints.astype(width).tobytes()
    raise AssertionError("int64 holds every int64")


def widen(raw: npt.NDArray[np.uint8], code: int, n: int) -> Ints:
    """The `n` integers `narrow` packed with width `code` at the start of `raw`, as int64."""
    width = _WIDTHS[code]
    return raw[: n * np.dtype(width).itemsize].view(width).astype(np.int64)


def _encode_times(ts: Floats) -> tuple[int, bytes]:
    millis = np.rint(ts * 1000.0)
    if len(ts) and np.all(np.abs(millis) < 2**53) and np.array_equal(millis / 1000.0, ts):
        ints = millis.astype(np.int64)
        if len(ints) > 1 and not np.any(np.diff(ints, 2)):
            return _TS_REGULAR, np.array([ints[0], ints[1] - ints[0]], dtype=np.int64).tobytes()
        code, packed = narrow(np.diff(ints, 2) if len(ints) > 1 else ints[:0])
        return _TS_MILLIS | code << 4, ints[:2].tobytes() + packed
    return _TS_FLOATS, ts.tobytes()


def _encode_values(values: Floats) -> tuple[int, int, bytes]:
    bits = values.view(np.int64)
    finite = bool(np.all(np.isfinite(values)))
    for places in range(_MAX_PLACES + 1) if finite and len(values) else ():
        scaled = np.rint(values * 10.0**places)
        if np.any(np.abs(scaled) >= _MAX_INT):
            break
        ints = scaled.astype(np.int64)
        back = ints.astype(np.float64) / 10.0**places if places else ints.astype(np.float64)
        if np.array_equal(back.view(np.int64), bits):  # as `decode` computes it: -0.0 fails
            code, packed = narrow(np.diff(ints))
            return _V_DECIMAL | code << 4, places, ints[:1].tobytes() + packed
    u = values.view(np.uint64)
    xored = np.bitwise_xor(u, np.concatenate(([np.uint64(0)], u[:-1])))
    shuffled = xored.view(np.uint8).reshape(len(values), 8).T  # byte k of every value together
    return _V_XOR, 0, shuffled.tobytes()
