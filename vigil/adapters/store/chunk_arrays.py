"""One metric of a host's raw chunk items as numpy columns, summed per (series, step bucket).

The array path of `DynamoStore.summarise_arrays` (`capabilities.ArraySummaryStore`): a chart's
avg/sum/count/min/max over raw chunks without a `Point` per sample. Of a v2 item only the asked
metric's section is read (`chunk_sections.sections`); a v1 item is parsed whole, as it always was.
Each series' columns are concatenated across items, cut to the range, de-duplicated on the timestamp
(a sample resent under a new batch id is in two items: the later item wins, as in `query_points`) and
bucketed by `arrays.bucket_cells`, the SQLite store's own bucketing, so both stores feed the same
numpy aggregation (`arrays.series_from_arrays`). Imports numpy: only the series API's read path
imports this module (lazily), never ingest or the evaluator.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Any

import numpy as np
import orjson

from vigil.adapters.store import chunk_sections
from vigil.adapters.store.arrays import BucketArrays, Floats, Labels, bucket_cells
from vigil.adapters.store.chunks import minute_from_sk

SeriesKey = tuple[str, Labels]


class Series:
    """One series' samples in item order, kept as Python lists until the end: a day is 1,440 items of
    a sample or two each, and numpy's per-call cost would outweigh the work on arrays that small."""

    __slots__ = ("bases", "counts", "kinds", "stamps", "values")

    def __init__(self) -> None:
        self.bases: list[float] = []  # per piece (one item's run of the series)
        self.counts: list[int] = []
        self.kinds: list[int] = []
        self.stamps: list[float] = []  # per sample: millisecond deltas or float offsets
        self.values: list[Any] = []

    def add(self, base: float, kind: int, stamps: list[Any], values: list[Any]) -> None:
        self.bases.append(base)
        self.counts.append(len(stamps))
        self.kinds.append(kind)
        self.stamps += stamps
        self.values += values

    def columns(self) -> tuple[Floats, Floats] | None:
        """(timestamps, values) in item order, the timestamps the same floats as
        `chunk_sections.timestamps` gives; None when a value is not a plain number."""
        try:  # C speed for plain numbers; histogram lists fail here or below
            values = np.asarray(self.values)
        except ValueError:
            return None
        if values.ndim != 1 or values.dtype.kind not in "fi":
            return None
        counts = np.asarray(self.counts, dtype=np.int64)
        piece = np.repeat(np.arange(len(counts)), counts)
        stamps = np.asarray(self.stamps, dtype=np.float64)  # deltas are integers < 2^53: exact
        millis = np.asarray(self.kinds, dtype=np.int64)[piece] == chunk_sections.TS_MILLIS
        deltas = np.where(millis, stamps, 0.0)
        running = np.cumsum(deltas)
        first = np.cumsum(counts) - counts  # each piece's first sample
        before = (running - deltas)[first[counts > 0]]  # the running sum before each (non-empty) piece
        within = running - np.repeat(before, counts[counts > 0])  # per item: the cumulative deltas
        offsets = np.where(millis, within / 1000.0, stamps)
        return np.asarray(self.bases, dtype=np.float64)[piece] + offsets, values.astype(np.float64)


class Columns:
    """The series of one metric read so far, by (host, labels)."""

    def __init__(self, wanted: set[tuple[str, str]]) -> None:
        self.wanted = wanted
        self.series: dict[SeriesKey, Series] = {}

    def add(
        self, host: str, flat: list[str], base: float, kind: int, stamps: list[Any], values: list[Any]
    ) -> None:
        labels = tuple(zip(flat[::2], flat[1::2], strict=True))
        if self.wanted and not self.wanted <= set(labels):
            return
        found = self.series.get((host, labels))
        if found is None:
            found = self.series[host, labels] = Series()
        found.add(base, kind, stamps, values)


def read_item(columns: Columns, host: str, data: bytes, minute: int, metric: str) -> None:
    """Add the item's series of `metric` to `columns`."""
    base = float(minute * 60)
    if chunk_sections.is_v2(data):
        for _, rows in chunk_sections.sections(data, {metric}):
            for flat, kind, stamps, values in rows:
                columns.add(host, flat, base, kind, stamps, values)
        return
    _, body = orjson.loads(zlib.decompress(data))
    for name, flat, offsets, values in body:  # v1: every series, float offsets from the minute
        if name == metric:
            columns.add(host, flat, base, chunk_sections.TS_FLOATS, offsets, values)


def summarise(
    host_items: Iterable[tuple[str, Iterable[dict[str, Any]]]],
    metric: str,
    lo: float,
    end: float,
    step: float,
    labels: dict[str, str] | None,
    now: float,
    fleet: bool,
) -> BucketArrays | None:
    """count/sum/min/max per (series, `step` bucket) of `metric` in [lo, end] over each host's chunk
    items (one series for all with `fleet`); None when a sample is not a plain number."""
    columns = Columns(set((labels or {}).items()))
    for host, items in host_items:
        for item in items:
            if float(item["expires_at"]["N"]) >= now:  # else every point in it is past retention
                read_item(columns, host, item["d"]["B"], minute_from_sk(item["sk"]["S"]), metric)
    series = list(columns.series)
    sid, ts, values = [], [], []
    for k, key in enumerate(series):
        found = columns.series[key].columns()
        if found is None:
            return None
        t, v = _clean(*found, lo, end)
        sid.append(np.full(len(t), k, dtype=np.int64))
        ts.append(t)
        values.append(v)
    if not series:
        return BucketArrays.empty([("", ())] if fleet else [])
    return bucket_cells(
        [("", ())] if fleet else series,
        None if fleet else list(range(len(series))),
        np.concatenate(sid),
        np.concatenate(ts),
        np.concatenate(values),
        step,
    )


def _clean(ts: Floats, values: Floats, lo: float, end: float) -> tuple[Floats, Floats]:
    """One series' samples in [lo, end], time-ordered, one per timestamp (the last item's)."""
    keep = (ts >= lo) & (ts <= end)
    ts, values = ts[keep][::-1], values[keep][::-1]
    ts, last = np.unique(ts, return_index=True)  # first of the reversed arrays: the latest item's
    return ts, values[last]
