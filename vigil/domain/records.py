"""Vigil's internal records: the stored sample (`Point`, `Histogram`), bulk-load blocks, API-key,
host and error records. Small frozen dataclasses because ingest creates thousands per request; apart
from the pydantic wire models in `vigil.domain.models` (which re-exports these) so that code reading
the store without parsing a request (the health function's cold start) never loads pydantic.

Imports: standard library, `vigil.domain.cadence` and `vigil.domain.identity` only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from vigil.domain.cadence import Cadence
from vigil.domain.identity import series_key


@dataclass(frozen=True, slots=True)
class Histogram:
    bounds: tuple[float, ...]
    counts: tuple[int, ...]
    sum: float
    count: int
    min: float | None = None
    max: float | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "bounds": list(self.bounds),
            "counts": list(self.counts),
            "sum": self.sum,
            "count": self.count,
        }
        if self.min is not None:
            out["min"] = self.min
        if self.max is not None:
            out["max"] = self.max
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Histogram:
        return cls(
            tuple(float(b) for b in data["bounds"]),
            tuple(int(c) for c in data["counts"]),
            float(data["sum"]),
            int(data["count"]),
            data.get("min"),
            data.get("max"),
        )


@dataclass(frozen=True, slots=True)
class Point:
    """One stored sample. `labels` is a sorted tuple of pairs so it can key a series."""

    host: str
    metric: str
    labels: tuple[tuple[str, str], ...]
    ts: float
    value: float | None
    histogram: Histogram | None = None

    @property
    def series_key(self) -> str:
        """`identity.series_key` of the point's series."""
        return series_key(self.host, self.metric, self.labels)


def distinct_series_keys(points: Iterable[Point]) -> set[str]:
    """The series keys of `points`, each made once: a batch repeats a few series many times, and a
    set of the parts is ~2.5x quicker than asking every point for its key."""
    return {
        series_key(host, metric, labels)
        for host, metric, labels in {(p.host, p.metric, p.labels) for p in points}
    }


# Ingest builds a `Point` per sample; a frozen dataclass' `__init__` sets each field through
# `object.__setattr__`, which costs more than the rest of the fast path's work per sample. `new_point`
# writes the slots directly: the same object (equal, hashed alike, still frozen), ~2x quicker.
# `tests/unit/test_records.py` fails if `Point` gains a field or a `__post_init__` this would skip.
_POINT_FIELDS = ("host", "metric", "labels", "ts", "value", "histogram")
_POINT_SLOTS = tuple(vars(Point)[name].__set__ for name in _POINT_FIELDS)  # the slots' descriptors


def new_point(
    host: str,
    metric: str,
    labels: tuple[tuple[str, str], ...],
    ts: float,
    value: float | None,
    histogram: Histogram | None = None,
) -> Point:
    """`Point(host, metric, labels, ts, value, histogram)`, built for the hot path."""
    point = object.__new__(Point)
    set_host, set_metric, set_labels, set_ts, set_value, set_histogram = _POINT_SLOTS
    set_host(point, host)
    set_metric(point, metric)
    set_labels(point, labels)
    set_ts(point, ts)
    set_value(point, value)
    set_histogram(point, histogram)
    return point


@dataclass(frozen=True, slots=True)
class SeriesBlock:
    """Many plain-value samples of one series, for bulk loading (`capabilities.BulkStore`): a back-fill
    writes millions of samples, and a `Point` per sample would cost more than the write itself.
    `timestamps` and `values` are parallel; `labels` sorted pairs as in `Point`."""

    host: str
    metric: str
    labels: tuple[tuple[str, str], ...]
    timestamps: Sequence[float]
    values: Sequence[float]


@dataclass(frozen=True, slots=True)
class BulkLoad:
    """What a bulk load stored: samples written, samples skipped (outside the raw retention or in the
    future), the time span written and the hosts it touched."""

    rows: int
    skipped: int
    first: float | None
    last: float | None
    hosts: frozenset[str]


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: str
    name: str
    role: str  # "ingest" | "viewer"
    secret_hash: str
    created_at: float
    revoked: bool = False
    last_used_at: float | None = None


@dataclass(frozen=True, slots=True)
class HostInfo:
    host: str
    first_seen: float
    last_seen: float
    series: int
    cadence: Cadence = field(default_factory=Cadence)  # last receipt, recent gaps, declared interval


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    fingerprint: str
    type: str
    message: str
    stack: str | None
    service: str | None
    host: str | None
    ts: float
    trace_id: str | None = None


@dataclass(frozen=True, slots=True)
class ErrorGroup:
    fingerprint: str
    type: str
    message: str
    service: str | None
    count: int
    first_seen: float
    last_seen: float
    sample_stack: str | None
    last_host: str | None
    last_trace_id: str | None
    # occurrences per clock hour (hour index -> count), the 24 h up to the newest one
    # (`vigil.domain.occurrences`); empty for occurrences recorded before hours were kept
    hourly: dict[int, int] = field(default_factory=dict)
