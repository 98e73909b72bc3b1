"""The fine tier's row format in SQLite (`rollups.FINE`, 5-minute rollups of histogram series): one
`rollups` row per series-hour whose body packs the hour's buckets as binary structs, so a 24 h fleet
percentile reads 24 rows per host and unpacks each in C. Used by `sqlite_rollups` only.
Standard library and orjson only."""

from __future__ import annotations

import math
import struct
from typing import Any

import orjson

from vigil.domain.records import Histogram
from vigil.domain.rollups import FINE, Rollup


def unit(start: float) -> float:
    """The fine tier's row key holding `start`: its hour."""
    return start - start % 3600.0


def _packer(buckets: int, wide: bool) -> struct.Struct:
    """An entry: start, count, sum, min, max, last_ts, last (NaN for None), then the bucket counts
    (32-bit unless one needs 64: rows under ~1 KB stay inside the SQLite page, no overflow page)."""
    found = _PACKERS.get((buckets, wide))
    if found is None:
        found = _PACKERS[(buckets, wide)] = struct.Struct(f"<dqddddd{buckets}{'q' if wide else 'I'}")
    return found


_PACKERS: dict[tuple[int, bool], struct.Struct] = {}
NAN = math.nan
_HEAD = struct.Struct("<IIB")


def _opt(x: float | None) -> float:
    return NAN if x is None else x


def fine_row(sid: int, hour: float, rollups: list[Rollup]) -> tuple[Any, ...]:
    """One series-hour of the fine tier as one row: count/sum/min/max of the hour as columns, and a
    binary body — `<IIB` (two lengths, the count width), the hour's bounds (JSON), entries with other
    bounds (JSON, nearly always `[]`), then one packed struct per 5-minute bucket (`_packer`). One row
    and one C-level unpack per series-hour: the same numbers as JSON text took longer to parse. A plain
    marker (no histogram) has an empty body and `hist` 0."""
    hists = sorted((r for r in rollups if r.histogram is not None), key=lambda r: r.start)
    if len(hists) < len(rollups):  # plain values in this series-hour: readers must use raw samples
        return (sid, FINE, hour, 0, 0.0, None, None, 0, b"")
    first = hists[0].histogram
    assert first is not None
    wide = any(c >= 2**32 for r in hists if r.histogram is not None for c in r.histogram.counts)
    packer = _packer(len(first.counts), wide)
    packed: list[bytes] = []
    other: list[list[Any]] = []
    for r in hists:
        h = r.histogram
        assert h is not None
        row = (r.start, r.count, r.sum, _opt(r.min), _opt(r.max), _opt(r.last_ts), _opt(r.last))
        if h.bounds == first.bounds:
            packed.append(packer.pack(*row, *h.counts))
        else:
            other.append([*row[:3], r.min, r.max, r.last_ts, r.last, h.bounds, h.counts])
    bounds_json, other_json = orjson.dumps(first.bounds), orjson.dumps(other)
    los = [r.min for r in hists if r.min is not None]
    his = [r.max for r in hists if r.max is not None]
    return (
        sid,
        FINE,
        hour,
        sum(r.count for r in hists),
        sum(r.sum for r in hists),
        min(los) if los else None,
        max(his) if his else None,
        1,
        _HEAD.pack(len(bounds_json), len(other_json), wide) + bounds_json + other_json + b"".join(packed),
    )


def fine_entries(body: bytes) -> list[tuple[tuple[float, ...], list[tuple[Any, ...]]]]:
    """(bounds, entries) groups of a fine-tier body; each entry is `(start, count, sum, min, max,
    last_ts, last, *counts)` with NaN for a missing min/max/last."""
    nb, no, wide = _HEAD.unpack_from(body)
    at = _HEAD.size
    bounds = tuple(orjson.loads(body[at : at + nb]))
    other = orjson.loads(body[at + nb : at + nb + no]) if no > 2 else []
    groups = [(bounds, list(_packer(len(bounds) + 1, bool(wide)).iter_unpack(body[at + nb + no :])))]
    for o in other:
        start, count, total, lo, hi, last_ts, last, obounds, counts = o
        groups.append(
            (tuple(obounds), [(start, count, total, _opt(lo), _opt(hi), _opt(last_ts), _opt(last), *counts)])
        )
    return groups


def _none(x: float) -> float | None:
    return None if x != x else x


def fine_records(
    metric: str, host: str, labels: tuple[tuple[str, str], ...], hour: float, count: int, body: bytes
) -> list[Rollup]:
    """The records of one fine-tier row (see `_fine_row`)."""
    if not body:
        return [Rollup(metric, host, labels, FINE, hour, count, 0.0, None, None)]
    out = []
    for bounds, entries in fine_entries(body):
        for e in entries:
            start, n, total, lo, hi, last_ts, last = e[:7]
            hist = Histogram(bounds, tuple(e[7:]), total, n, _none(lo), _none(hi))
            out.append(
                Rollup(
                    metric,
                    host,
                    labels,
                    FINE,
                    start,
                    n,
                    total,
                    _none(lo),
                    _none(hi),
                    _none(last_ts),
                    _none(last),
                    histogram=hist,
                )
            )
    return sorted(out, key=lambda r: r.start)
