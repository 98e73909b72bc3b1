"""`/api/export`: what the series API would return for the same parameters, as CSV or JSON.

The planned query (`queries.plan_series`, same step and resolution as the chart) is computed in time
chunks of `CHUNK_BUCKETS` step-aligned buckets, so the store streams one chunk's raw points at a time
into the aggregation instead of the whole range (a counter `rate` is computed in one chunk: its
increase pairs cross chunk edges). Chunk edges fall on bucket edges, so every bucket is computed from
exactly the data it would be in one pass. API Gateway and Lambda buffer responses (no streaming
through an HTTP API) and a Lambda response is capped at 6 MB, so the body is cut at `MAX_EXPORT_BYTES`
(5 MiB, room for headers and the JSON envelope): past it the caller gets 413 naming `to`, and pages
through the range with smaller `from`/`to` windows, a wider `step` or a host filter.

CSV: RFC 4180 (the `csv` module quotes fields with commas, quotes or newlines; CRLF line ends), a
header row, one row per (bucket, series): `timestamp,time,host,labels,value`; `labels` is `k=v,k2=v2`
(a `,` `=` or `\\` inside a key or value escaped by a backslash), an empty `value` is a gap (as `null`
is in JSON and in the series API). Imports domain, ports and
services only.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from typing import Any

import orjson

from vigil.config import Config
from vigil.domain.errors import Invalid, TooLarge
from vigil.domain.identity import labels_key
from vigil.domain.timeparse import iso
from vigil.ports import Store
from vigil.services.queries import SeriesQuery, plan_series, run_series

FORMATS = ("csv", "json")
CHUNK_BUCKETS = 500
MAX_EXPORT_BYTES = 5 * 1024 * 1024
CSV_HEADER = ("timestamp", "time", "host", "labels", "value")


def export(
    store: Store, config: Config, now: float, *, fmt: str, max_bytes: int | None = None, **params: Any
) -> tuple[str, bytes, str]:
    """(content type, body, file name). Raises: Invalid naming `format` (or a series parameter);
    TooLarge naming `to` when the body would pass `max_bytes`."""
    if fmt not in FORMATS:
        raise Invalid(f"format must be one of {', '.join(FORMATS)}; got {fmt!r}", field="format")
    cap = MAX_EXPORT_BYTES if max_bytes is None else max_bytes
    q = plan_series(config, now, multi=False, **params)
    # a header value must be latin-1: anything but [A-Za-z0-9._-] in the metric name becomes "_"
    name = re.sub(r"[^A-Za-z0-9._-]", "_", f"vigil-{q.metric}-{int(q.start)}-{int(q.end)}.{fmt}")
    if fmt == "csv":
        body = _capped(_csv_lines(store, q, now), cap)
        return "text/csv; charset=utf-8", body, name
    merged = _merged(store, q, now)
    body = orjson.dumps(merged)
    if len(body) > cap:
        raise _too_large(cap)
    return "application/json", body, name


def chunks(q: SeriesQuery) -> Iterator[tuple[float, float]]:
    """[start, end] pieces of the query, each `CHUNK_BUCKETS` whole buckets (one piece for `rate`)."""
    if q.agg == "rate":
        yield q.start, q.end
        return
    width = q.step * CHUNK_BUCKETS
    a = q.start
    while a <= q.end:
        edge = (math.floor(a / q.step) * q.step) + width  # the next bucket edge CHUNK_BUCKETS along
        b = min(q.end, math.nextafter(edge, -math.inf))
        yield a, b
        a = edge


def _csv_lines(store: Store, q: SeriesQuery, now: float) -> Iterator[bytes]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for a, b in chunks(q):
        result = run_series(store, q, now, a, b)
        for i, ts in enumerate(result["timestamps"]):
            for entry in result["series"]:
                value = entry["values"][i]
                labels = labels_key(entry["labels"].items())  # escaped as the series API's `labels` reads it
                # JSON (orjson) writes a non-finite number as null: the CSV leaves the same gap
                cell = "" if value is None or not math.isfinite(value) else _num(value)
                writer.writerow((_num(ts), iso(ts), entry["host"] or "", labels, cell))
        yield buf.getvalue().encode()
        buf.seek(0)
        buf.truncate()


def _merged(store: Store, q: SeriesQuery, now: float) -> dict[str, Any]:
    timestamps: list[float] = []
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    out: dict[str, Any] = {}
    for a, b in chunks(q):
        result = run_series(store, q, now, a, b)
        n_before, n = len(timestamps), len(result["timestamps"])
        timestamps.extend(result["timestamps"])
        for entry in result["series"]:
            key = (entry["host"], tuple(sorted(entry["labels"].items())))
            row = rows.setdefault(key, {**entry, "values": [None] * n_before})
            row["values"].extend(entry["values"])
        for row in rows.values():
            row["values"].extend([None] * (n_before + n - len(row["values"])))
        out = {k: v for k, v in result.items() if k not in ("timestamps", "series")}
    ordered = sorted(rows.values(), key=lambda r: (r["host"] or "", sorted(r["labels"].items())))
    return {**out, "timestamps": timestamps, "series": ordered}


def _capped(pieces: Iterator[bytes], max_bytes: int) -> bytes:
    out = bytearray()
    for piece in pieces:
        out += piece
        if len(out) > max_bytes:
            raise _too_large(max_bytes)
    return bytes(out)


def _too_large(max_bytes: int) -> TooLarge:
    return TooLarge(
        f"the export is over {max_bytes // (1024 * 1024)} MiB (a Lambda response is capped at 6 MB); "
        "export a shorter from/to window at a time, a wider step, or fewer hosts",
        field="to",
    )


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(v)
