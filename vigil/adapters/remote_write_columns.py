"""A remote-write `WriteRequest` read straight into columns: per series its label fields' bytes as
sent (the key `services.remote_write` remembers a series' identity by, as Prometheus' own receivers
cache label sets) and the bounds of its samples in two arrays (timestamps, values) for the whole
request, without a protobuf object per series, label or sample.

One pass of Python finds the fields (a few byte reads per series and per sample); numpy reads every
sample's value and timestamp at once. The reader takes only what it fully understands — samples of
the shape every encoder writes (value field then timestamp field, either one left out when zero, as
proto3 encoders do), labels of valid UTF-8, field numbers under 16 — and returns None for anything
else, which the caller then decodes with the protobuf library (`remote_write.decode_write_request`),
whose answers and errors stay the reference: `tests/unit/test_remote_write_columns.py` holds the two
to the same series on generated requests.

numpy only; must not import `vigil.api`.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported when a request arrives (the metrics function's cold start)
    import numpy as np
    import numpy.typing as npt

_LABELS, _SAMPLES, _HISTOGRAMS = 0x0A, 0x12, 0x22  # TimeSeries fields 1, 2, 4 (length-delimited)
_VALUE, _TIMESTAMP = 0x09, 0x10  # Sample: field 1 double, field 2 varint


@dataclass(frozen=True, slots=True)
class WireColumns:
    """A decoded request: series i has label fields `keys[i]` and samples `bounds[i]:bounds[i + 1]`
    of `timestamps_ms` and `values`."""

    keys: list[bytes]
    bounds: list[int]
    timestamps_ms: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    native_histograms: list[int]


def _varint(raw: bytes, pos: int) -> tuple[int, int]:
    """(value, position after it) of the varint at `pos`; IndexError past the end."""
    value, shift = 0, 0
    while True:
        byte = raw[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise IndexError("varint longer than 10 bytes")


def _skip(raw: bytes, tag: int, pos: int) -> int:
    """The position after an unread field's payload (the tag already read); IndexError when the
    field cannot be skipped safely here (groups, an unknown wire type) or is no field at all (number 0:
    the protobuf library rejects the message, so this reader must not take it as empty)."""
    if tag >> 3 == 0:
        raise IndexError("field number 0")
    kind = tag & 7
    if kind == 0:
        return _varint(raw, pos)[1]
    if kind == 1:
        return pos + 8
    if kind == 2:
        length, pos = _varint(raw, pos)
        return pos + length
    if kind == 5:
        return pos + 4
    raise IndexError(f"wire type {kind}")


def label_pairs(key: bytes) -> dict[str, str]:
    """A series' labels from its label fields' bytes (`WireColumns.keys`), in the order sent (a name
    given twice: its last value, as the protobuf library's dict of them has it).

    Raises:
        ValueError: not label fields of valid UTF-8 (never for a key `read_columns` returned).
    """
    out: dict[str, str] = {}
    pos, end = 0, len(key)
    try:
        while pos < end:
            tag, pos = _varint(key, pos)
            length, pos = _varint(key, pos)
            stop = pos + length
            name = value = ""
            while pos < stop:
                field, pos = _varint(key, pos)
                if field in (0x0A, 0x12):
                    size, pos = _varint(key, pos)
                    text = key[pos : pos + size].decode()
                    pos += size
                    if field == 0x0A:
                        name = text
                    else:
                        value = text
                else:
                    pos = _skip(key, field, pos)
            if tag != _LABELS or pos != stop:
                raise ValueError("not a label field")
            out[name] = value
    except IndexError as exc:
        raise ValueError("truncated label field") from exc
    return out


def read_columns(raw: bytes, known: Container[bytes] = ()) -> WireColumns | None:
    """The inflated `WriteRequest` as columns, or None where it holds anything this reader does not
    take as it is (the protobuf library then decodes it and reports what is wrong). `known`: label
    keys read well before (they are not checked again)."""
    try:
        found = _fields(raw)
    except (IndexError, ValueError):
        return None
    if found is None:
        return None
    keys, bounds, runs, histograms = found
    columns = _samples(raw, *_positions(runs))
    if columns is None:
        return None
    for key in set(keys):  # each new label set checked once: UTF-8, well-formed
        if key in known:
            continue
        try:
            label_pairs(key)
        except (ValueError, UnicodeDecodeError):
            return None
    return WireColumns(keys, bounds, columns[0], columns[1], histograms)


# Sample fields found by `_fields`, as runs: the first payload's start and every payload's size, the
# distance from one field to the next and how many (a lone sample: a run of one)
Runs = tuple[list[int], list[int], list[int], list[int]]


def _fields(raw: bytes) -> tuple[list[bytes], list[int], Runs, list[int]] | None:
    """Per series its label bytes, sample bounds and histogram count, and the request's sample
    fields as `Runs`. None for a shape left to the protobuf library. Python per series, not per
    field where encoders write alike: the leading label fields are stepped over in one tight loop, a
    run of samples of one size is recognised by two strided byte counts, and the runs are expanded
    into each sample's position by numpy (`_positions`)."""
    keys: list[bytes] = []
    bounds = [0]
    firsts: list[int] = []
    sizes: list[int] = []
    steps: list[int] = []
    counts: list[int] = []
    total = 0
    histograms: list[int] = []
    pos, end = 0, len(raw)
    while pos < end:
        tag = raw[pos]
        if tag != 0x0A:  # not a TimeSeries (metadata, or a field we do not know): skip it
            if tag >= 0x80:
                return None
            pos = _skip(raw, tag, pos + 1)
            continue
        length = raw[pos + 1]
        if length < 0x80:
            pos += 2
        elif raw[pos + 2] < 0x80:  # two bytes: a series of 128 bytes to 16 KB, the usual one
            length = (length & 0x7F) | raw[pos + 2] << 7
            pos += 3
        else:
            length, pos = _varint(raw, pos + 1)
        stop = pos + length
        if stop > end:
            return None
        first = pos  # the label fields, when they come together (they do from every encoder)
        while pos < stop and raw[pos] == _LABELS and raw[pos + 1] < 0x80:
            pos += 2 + raw[pos + 1]
        last = pos
        pieces: list[bytes] = []
        counted = 0
        while pos < stop:
            field = raw[pos]
            size = raw[pos + 1]
            if size >= 0x80:
                size, body = _varint(raw, pos + 1)
            else:
                body = pos + 2
            after = body + size
            if field == _SAMPLES:
                step = after - pos
                rest = stop - pos
                count = rest // step
                if (
                    size < 0x80
                    and not rest % step
                    and raw[pos:stop:step].count(_SAMPLES) == count
                    and raw[pos + 1 : stop : step].count(size) == count
                ):
                    # the rest of the series is samples of one size, as encoders write them
                    after = stop
                else:
                    step = count = 1
                firsts.append(body)
                sizes.append(size)
                steps.append(step)
                counts.append(count)
                total += count
            elif field == _LABELS:
                if pos != last:  # labels after samples: keep each field's bytes
                    pieces.append(raw[first:last])
                    first = pos
                last = after
            elif field == _HISTOGRAMS:
                counted += 1
            elif field >= 0x80:
                return None
            else:
                after = _skip(raw, field, pos + 1)
            pos = after
        if pos != stop:
            return None
        key = raw[first:last]
        keys.append(b"".join([*pieces, key]) if pieces else key)
        bounds.append(total)
        histograms.append(counted)
    if pos != end:
        return None
    return keys, bounds, (firsts, sizes, steps, counts), histograms


def _positions(runs: Runs) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Each sample's payload start and end, from the runs `_fields` found."""
    import numpy as np

    firsts, sizes, steps, counts = (np.asarray(x, dtype=np.int64) for x in runs)
    offsets = np.cumsum(counts) - counts
    k = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(offsets, counts)  # index in its run
    starts = np.repeat(firsts, counts) + k * np.repeat(steps, counts)
    return starts, starts + np.repeat(sizes, counts)


def _samples(
    raw: bytes, start: npt.NDArray[np.int64], end: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]] | None:
    """Every sample's (timestamp, value), read at once: a payload is `09 <8 bytes>` (left out for
    0.0), then `10 <varint>` (left out for 0), and nothing else."""
    import numpy as np

    if not len(start):
        return np.empty(0, np.int64), np.empty(0, np.float64)
    widths, places_at = np.arange(8), np.arange(10)
    buf = np.frombuffer(raw, dtype=np.uint8)
    top = len(buf) - 1
    first = buf[np.minimum(start, top)]
    has_value = (end - start >= 9) & (first == _VALUE)
    at = start + 9 * has_value
    has_time = (at < end) & (buf[np.minimum(at, top)] == _TIMESTAMP)
    digits = np.where(has_time, end - at - 1, 0)
    if not bool(np.all((at == end) | has_time)) or not bool(np.all(digits <= 10)):
        return None
    if not bool(np.all(~has_time | (digits >= 1))):
        return None
    value_bytes = buf[np.minimum(start[:, None] + 1 + widths, top)]
    values = np.where(has_value, np.ascontiguousarray(value_bytes).view("<f8")[:, 0], 0.0)
    places = buf[np.minimum(at[:, None] + 1 + places_at, top)]
    used = places_at < digits[:, None]
    more = (places & 0x80) != 0
    # a varint: every byte but its last has the continuation bit; a tenth byte holds one bit at most
    if not bool(np.all(~used | (more == (places_at < digits[:, None] - 1)))):
        return None
    if not bool(np.all((digits < 10) | (places[:, 9] <= 1))):
        return None
    parts = np.where(
        used, (places & 0x7F).astype(np.uint64) << (7 * places_at).astype(np.uint64), np.uint64(0)
    )
    times = np.bitwise_or.reduce(parts, axis=1).view(np.int64)
    return times, values.astype(np.float64)
