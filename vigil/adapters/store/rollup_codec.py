"""The rollup block codec: one series' hourly or daily `Rollup` records of one time block as a small
compressed byte string (the SQLite store's `rollup_blocks` table; docs/data-model.md, "Rollup blocks").

A body is `<BBBBIII` (format version, flags, the sketch keys' and counts' integer widths, record
count n, sketch entries k, histogram JSON bytes) and then one zstd frame (cramjam) holding:
- a 10 x n matrix of 8-byte cells — count (int64), start, sum, min, max, last_ts, last, increase,
  seconds (float64 bit patterns, 0 where None) and the record's sketch length (int64) — stored
  byte-shuffled (byte j of every cell together: the high bytes of similar numbers and of small ints
  are runs zstd packs to almost nothing);
- n bytes: which of min, max, last_ts, last are None (bits 0-3);
- the k sketch keys as deltas and the k sketch counts, record after record, each in the narrowest
  integer width holding them (`columns.narrow`: keys step by one, counts are small);
- the histograms as JSON `[[record index, Histogram.to_json()], ...]` (histogram series only).
The metric, host, labels and resolution are not stored: the row's series says them.

`decode` gives back records equal to the encoded ones (floats bit for bit; property-tested).
`summaries` reads count/sum/min/max/start of many bodies at once with numpy index arithmetic (no
record objects), for the array queries. numpy, cramjam and orjson only; must not import
`vigil.api`/`vigil.local`.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import cramjam
import numpy as np
import numpy.typing as npt
import orjson

from vigil.adapters.store.columns import narrow, widen
from vigil.domain.records import Histogram
from vigil.domain.rollups import Rollup

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
FORMAT = 1
_HEAD = struct.Struct("<BBBBIII")
_FLAG_HIST = 1
_ROWS = 10  # count, start, sum, min, max, last_ts, last, increase, seconds, sketch length
_COUNT, _START, _SUM, _MIN, _MAX = 0, 1, 2, 3, 4
_SUMMARY_ROWS = 5  # count, start, sum, min, max: the first rows of the matrix
ZSTD_LEVEL = 3


def _shuffle(cells: npt.NDArray[Any]) -> bytes:
    """8-byte cells as byte planes: byte j of every cell, then byte j + 1 ..."""
    return np.ascontiguousarray(cells).view(np.uint8).reshape(-1, 8).T.tobytes()


def _unshuffle(raw: npt.NDArray[np.uint8], cells: int) -> npt.NDArray[np.uint8]:
    return raw[: 8 * cells].reshape(8, cells).T.copy()


def encode(rollups: Sequence[Rollup]) -> bytes:
    """One block's records (sorted by start; one series, one resolution) as a body."""
    n = len(rollups)
    matrix = np.zeros((_ROWS, n), dtype=np.float64)
    ints = matrix.view(np.int64)
    mask = np.zeros(n, dtype=np.uint8)
    keys: list[int] = []
    counts: list[int] = []
    hists: list[list[Any]] = []
    for j, r in enumerate(rollups):
        ints[_COUNT, j] = r.count
        matrix[_START:_MIN, j] = (r.start, r.sum)
        for bit, (row, value) in enumerate(((3, r.min), (4, r.max), (5, r.last_ts), (6, r.last))):
            if value is None:
                mask[j] |= 1 << bit
            else:
                matrix[row, j] = value
        matrix[7:9, j] = (r.increase, r.seconds)
        ints[9, j] = len(r.sketch)
        for k in sorted(r.sketch):
            keys.append(k)
            counts.append(r.sketch[k])
        if r.histogram is not None:
            hists.append([j, r.histogram.to_json()])
    key_width, key_part = narrow(np.diff(np.array(keys, dtype=np.int64), prepend=np.int64(0)))
    count_width, count_part = narrow(np.array(counts, dtype=np.int64))
    hist_json = orjson.dumps(hists) if hists else b""
    payload = b"".join((_shuffle(matrix), mask.tobytes(), key_part, count_part, hist_json))
    flags = _FLAG_HIST if hists else 0
    head = _HEAD.pack(FORMAT, flags, key_width, count_width, n, len(keys), len(hist_json))
    return head + bytes(cramjam.zstd.compress(payload, level=ZSTD_LEVEL))


def has_histograms(body: bytes) -> bool:
    """Whether a body holds a histogram record (read from the header, nothing decompressed)."""
    return bool(body[1] & _FLAG_HIST)


def _open(body: bytes) -> tuple[tuple[int, ...], npt.NDArray[np.uint8]]:
    """The header (version, flags, key width, count width, n, k, histogram bytes) and the payload."""
    head = _HEAD.unpack_from(body)
    if head[0] != FORMAT:
        raise ValueError(f"unknown rollup block format {head[0]}")
    return head, np.frombuffer(bytes(cramjam.zstd.decompress(body[_HEAD.size :])), dtype=np.uint8)


def decode(
    body: bytes, metric: str, host: str, labels: tuple[tuple[str, str], ...], resolution: str
) -> list[Rollup]:
    """The records of a body, in start order. Raises ValueError for an unknown format version."""
    (_v, _f, key_width, count_width, n, k, hist_len), raw = _open(body)
    matrix = _unshuffle(raw, _ROWS * n).view(np.float64).reshape(_ROWS, n)
    at = 8 * _ROWS * n
    mask = raw[at : at + n].tolist()
    at += n
    keys = np.cumsum(widen(raw[at:], key_width, k)).tolist()
    at += k * (1 << key_width)
    sk_counts = widen(raw[at:], count_width, k).tolist()
    at += k * (1 << count_width)
    hists: dict[int, Histogram] = {}
    if hist_len:
        hists = {j: Histogram.from_json(h) for j, h in orjson.loads(raw[at : at + hist_len].tobytes())}
    ints = matrix.view(np.int64)
    count, lens = ints[_COUNT].tolist(), ints[9].tolist()
    start, total, lo, hi, last_ts, last, increase, seconds = (matrix[row].tolist() for row in range(1, 9))
    out = []
    pos = 0
    for j in range(n):
        m = mask[j]
        out.append(
            Rollup(
                metric,
                host,
                labels,
                resolution,
                start[j],
                count[j],
                total[j],
                None if m & 1 else lo[j],
                None if m & 2 else hi[j],
                None if m & 4 else last_ts[j],
                None if m & 8 else last[j],
                increase[j],
                seconds[j],
                hists.get(j),
                dict(zip(keys[pos : pos + lens[j]], sk_counts[pos : pos + lens[j]], strict=True)),
            )
        )
        pos += lens[j]
    return out


_FRAMES_PER_CALL = 512  # bodies decompressed in one call by `summaries`: ~1.5 MB of payloads at a time


def _payload_size(body: bytes) -> int:
    """The decompressed payload's length, from the header: the matrix, the None mask, the sketch keys
    and counts in their widths, the histogram JSON."""
    _v, _f, key_width, count_width, n, k, hist_len = _HEAD.unpack_from(body)
    return int((8 * _ROWS + 1) * n + k * ((1 << key_width) + (1 << count_width)) + hist_len)


def _payloads(bodies: Sequence[bytes]) -> list[memoryview]:
    """Every body's decompressed payload, with one decompression call for all of them (concatenated
    zstd frames inflate to the concatenated payloads), cut at the lengths their headers give:
    cramjam sets up a decoder per call, ~14 us, more than inflating a day's ~3 KB block takes. A
    total that disagrees with the headers (never for bodies `encode` made) inflates body by body."""
    decompress = cramjam.zstd.decompress
    lengths = [_payload_size(body) for body in bodies]
    whole = memoryview(decompress(b"".join(memoryview(body)[_HEAD.size :] for body in bodies)))
    if len(whole) != sum(lengths):
        return [memoryview(decompress(body[_HEAD.size :])) for body in bodies]
    out, at = [], 0
    for length in lengths:
        out.append(whole[at : at + length])
        at += length
    return out


def summaries(bodies: Sequence[bytes]) -> tuple[Ints, Floats, Floats, Floats, Floats, Floats]:
    """(body index, start, count, sum, min, max) of every record of `bodies`, as flat arrays in body
    then record order; NaN for a None min/max. Each body is decompressed once; bodies with the same
    record count (a query's blocks mostly hold whole days) are then unshuffled together, as one
    (bodies, byte plane, row, record) array, and their records put in place."""
    sizes = np.array([_HEAD.unpack_from(body)[4] for body in bodies], dtype=np.int64)
    if any(body[0] != FORMAT for body in bodies):
        raise ValueError(f"unknown rollup block format {next(b[0] for b in bodies if b[0] != FORMAT)}")
    total_n = int(sizes.sum())
    first = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    cells = np.empty((_SUMMARY_ROWS, total_n), dtype=np.float64)
    mask = np.empty(total_n, dtype=np.uint8)
    # `_FRAMES_PER_CALL` bodies at a time: one decompression call each, and at most that many
    # payloads held at once, however many blocks a fleet query reads
    for start in range(0, len(bodies), _FRAMES_PER_CALL):
        payloads = _payloads(bodies[start : start + _FRAMES_PER_CALL])
        part = sizes[start : start + _FRAMES_PER_CALL]
        for n in np.unique(part).tolist():
            if not n:
                continue
            which = np.flatnonzero(part == n)
            used = (8 * _ROWS + 1) * n  # the matrix and the None mask; sketches, histograms not needed
            joined = b"".join(payloads[i][:used] for i in which.tolist())
            raw = np.frombuffer(joined, dtype=np.uint8).reshape(len(which), used)
            # byte p of cell (row, j) is at p * (10 * n) + row * n + j (`_shuffle`)
            planes = raw[:, : 8 * _ROWS * n].reshape(len(which), 8, _ROWS, n)[:, :, :_SUMMARY_ROWS, :]
            values = np.ascontiguousarray(planes.transpose(2, 0, 3, 1)).view(np.float64)  # (row, body, j)
            at = (first[start + which][:, None] + np.arange(n, dtype=np.int64)).ravel()
            cells[:, at] = values.reshape(_SUMMARY_ROWS, -1)
            mask[at] = raw[:, 8 * _ROWS * n :].ravel()
    count = cells[_COUNT].view(np.int64).astype(np.float64)
    lo = np.where(mask & 1, np.nan, cells[_MIN])
    hi = np.where(mask & 2, np.nan, cells[_MAX])
    which = np.repeat(np.arange(len(bodies), dtype=np.int64), sizes)
    return which, cells[_START], count, cells[_SUM], lo, hi
