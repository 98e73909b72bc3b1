"""Trace records: one `Span` per stored span and the `TraceSummary` the trace list shows.

`summarize(spans)` is the one definition of a trace's summary (root span, service, route, duration,
error) used by every `TraceStore` implementation, so SQLite and DynamoDB list the same thing.
Spans round-trip through `to_json`/`span_from_json` (stores keep them as JSON text).

Standard library only; no protobuf (the OTLP adapter builds these records).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

TRACE_TTL_SECONDS = 7 * 86400.0
MAX_SPAN_ATTRIBUTES = 64
MAX_SPAN_EVENTS = 32
MAX_EVENT_ATTRIBUTES = 16
MAX_ATTRIBUTE_VALUE_LEN = 4096  # exception stack traces live in event attributes


@dataclass(frozen=True, slots=True)
class SpanEvent:
    name: str
    ts: float
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Span:
    """One span. Ids are lowercase hex; times are epoch seconds; `duration_ms` is exact from the
    nanosecond timestamps (not from the rounded floats)."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str  # internal | server | client | producer | consumer | unspecified
    service: str
    host: str
    start: float
    end: float
    duration_ms: float
    status_code: str  # unset | ok | error
    status_message: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    events: tuple[SpanEvent, ...] = ()
    route: str | None = None
    http_status_code: int | None = None

    @property
    def is_error(self) -> bool:
        return self.status_code == "error" or (self.http_status_code or 0) >= 500

    def to_json(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "parent_span_id": self.parent_span_id,
            "name": self.name,
            "kind": self.kind,
            "service": self.service,
            "host": self.host,
            "start": self.start,
            "end": self.end,
            "duration_ms": self.duration_ms,
            "status_code": self.status_code,
            "status_message": self.status_message,
            "attributes": dict(self.attributes),
            "events": [{"name": e.name, "ts": e.ts, "attributes": dict(e.attributes)} for e in self.events],
            "route": self.route,
            "http_status_code": self.http_status_code,
        }


def span_from_json(data: Mapping[str, Any]) -> Span:
    return Span(
        trace_id=data["trace_id"],
        span_id=data["span_id"],
        parent_span_id=data.get("parent_span_id"),
        name=data["name"],
        kind=data["kind"],
        service=data["service"],
        host=data["host"],
        start=float(data["start"]),
        end=float(data["end"]),
        duration_ms=float(data["duration_ms"]),
        status_code=data["status_code"],
        status_message=data.get("status_message", ""),
        attributes=dict(data.get("attributes") or {}),
        events=tuple(
            SpanEvent(e["name"], float(e["ts"]), dict(e.get("attributes") or {}))
            for e in data.get("events") or ()
        ),
        route=data.get("route"),
        http_status_code=data.get("http_status_code"),
    )


@dataclass(frozen=True, slots=True)
class TraceSummary:
    """One row of the trace list. `service`/`name`/`route` come from the root span when it has
    arrived, else from the earliest span seen so far (children are usually exported first)."""

    trace_id: str
    service: str
    name: str
    route: str | None
    start: float
    duration_ms: float
    span_count: int
    error: bool
    http_status_code: int | None = None
    has_root: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "service": self.service,
            "name": self.name,
            "route": self.route,
            "start": self.start,
            "duration_ms": self.duration_ms,
            "span_count": self.span_count,
            "error": self.error,
            "http_status_code": self.http_status_code,
            "has_root": self.has_root,
        }


def summary_from_json(data: Mapping[str, Any]) -> TraceSummary:
    return TraceSummary(
        trace_id=data["trace_id"],
        service=data["service"],
        name=data["name"],
        route=data.get("route"),
        start=float(data["start"]),
        duration_ms=float(data["duration_ms"]),
        span_count=int(data["span_count"]),
        error=bool(data["error"]),
        http_status_code=data.get("http_status_code"),
        has_root=bool(data.get("has_root")),
    )


def summarize(spans: Sequence[Span]) -> TraceSummary:
    """Summary of one trace's spans (all with the same trace id; at least one).

    The root is the span without a parent (or whose parent is not among the spans, earliest first).
    Duration spans from the earliest start to the latest end of all spans.
    """
    if not spans:
        raise ValueError("summarize needs at least one span")
    ids = {s.span_id for s in spans}
    ordered = sorted(spans, key=lambda s: (s.start, s.span_id))
    roots = [s for s in ordered if s.parent_span_id is None]
    orphans = [s for s in ordered if s.parent_span_id is not None and s.parent_span_id not in ids]
    root = (roots or orphans or ordered)[0]
    start = min(s.start for s in spans)
    end = max(s.end for s in spans)
    route = root.route or next((s.route for s in ordered if s.route), None)
    return TraceSummary(
        trace_id=root.trace_id,
        service=root.service,
        name=root.name,
        route=route,
        start=start,
        # The root's own nanosecond-exact duration when it covers the trace; else the float span.
        duration_ms=root.duration_ms if root.start <= start and root.end >= end else (end - start) * 1000.0,
        span_count=len(spans),
        error=any(s.is_error for s in spans),
        http_status_code=root.http_status_code,
        has_root=bool(roots),
    )


def matches(
    summary: TraceSummary,
    *,
    service: str | None,
    route: str | None,
    status: str | None,
    min_duration_ms: float | None,
    start: float | None,
    end: float | None,
) -> bool:
    """The trace list's filter; `status` is `error` or `ok` (anything not an error)."""
    if service is not None and summary.service != service:
        return False
    if route is not None and summary.route != route:
        return False
    if status == "error" and not summary.error:
        return False
    if status == "ok" and summary.error:
        return False
    if min_duration_ms is not None and summary.duration_ms < min_duration_ms:
        return False
    if start is not None and summary.start < start:
        return False
    return not (end is not None and summary.start > end)
