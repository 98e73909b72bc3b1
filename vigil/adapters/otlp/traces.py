"""OTLP traces (`ExportTraceServiceRequest`) → `Span` records, derived application metrics and errors.

- Every valid span becomes a `Span` (hex ids, exact nanosecond duration, bounded attributes/events,
  `http.route`, `http.response.status_code` or the older `http.status_code`).
- SERVER spans feed, per host + service + route (the span name when `http.route` is absent), the
  application metrics the dashboard's API cards read: `http.server.request.duration` (histogram,
  seconds, OTel default buckets), `http.server.request.count` and `http.server.error.count` (counts in
  this export; error = status ERROR or HTTP status >= 500). `app.users.active` is the number of distinct
  `enduser.id` (else `session.id`) values on SERVER spans in the export, per service;
  `app.session.duration` (histogram, seconds) records every numeric `session.duration` span attribute
  (a Vigil convention: OpenTelemetry defines no session-duration attribute).
- Exception events on spans whose status is ERROR become `ErrorEvent`s grouped by
  `errors_grouping.fingerprint`.

Imports opentelemetry-proto; must not import `vigil.api`, boto3 or sqlite3.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan

from vigil.adapters.otlp import common
from vigil.adapters.otlp.decode import hex_id
from vigil.adapters.otlp.metrics import MappingResult
from vigil.domain.errors_grouping import fingerprint
from vigil.domain.limits import MAX_FUTURE_SECONDS
from vigil.domain.records import ErrorEvent, Histogram, Point
from vigil.domain.traces import (
    MAX_ATTRIBUTE_VALUE_LEN,
    MAX_EVENT_ATTRIBUTES,
    MAX_SPAN_ATTRIBUTES,
    MAX_SPAN_EVENTS,
    Span,
    SpanEvent,
)

# OTel semantic conventions: default buckets of http.server.request.duration (seconds).
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
SESSION_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0)
KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
STATUSES = ("unset", "ok", "error")
UNKNOWN_SERVICE = "unknown_service"
MAX_ERROR_MESSAGE = 4000
MAX_ERROR_STACK = 32000


@dataclass
class TracesResult(MappingResult):
    """`points` are the derived application metrics; `rejected` counts spans."""

    spans: list[Span] = field(default_factory=list)
    errors: list[ErrorEvent] = field(default_factory=list)


def _bounded(value: Any) -> Any:
    return value[:MAX_ATTRIBUTE_VALUE_LEN] if isinstance(value, str) else value


def _bounded_attrs(attrs: dict[str, Any], limit: int) -> tuple[dict[str, Any], int]:
    kept = {k: _bounded(v) for k, v in list(attrs.items())[:limit]}
    return kept, len(attrs) - len(kept)


def _int_attr(attrs: dict[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = attrs.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
    return None


def map_traces(
    request: ExportTraceServiceRequest,
    now: float,
    retention_seconds: float = 7 * 86400.0,
    derive_metrics: bool = True,
) -> TracesResult:
    """Spans, derived points (unless `derive_metrics` is False) and error events of one export."""
    result = TracesResult()
    for rs in request.resource_spans:
        who = common.origin(rs.resource)
        service = who.service or UNKNOWN_SERVICE
        for ss in rs.scope_spans:
            for pb in ss.spans:
                reason = _invalid(pb, now, retention_seconds)
                if reason:
                    result.reject(reason)
                    continue
                span, truncated = _span(pb, service, who.host)
                if truncated:
                    result.warnings["spans had attributes or events beyond the limits dropped"] += 1
                result.spans.append(span)
                result.errors.extend(_errors(pb, span))
    if derive_metrics:
        result.points.extend(derived_points(result.spans))
    return result


def _invalid(pb: PbSpan, now: float, retention_seconds: float) -> str | None:
    if len(pb.trace_id) != 16 or not any(pb.trace_id):
        return "trace_id must be 16 bytes and not all zero"
    if len(pb.span_id) != 8 or not any(pb.span_id):
        return "span_id must be 8 bytes and not all zero"
    if pb.parent_span_id and len(pb.parent_span_id) != 8:
        return "parent_span_id must be 8 bytes"
    if pb.end_time_unix_nano < pb.start_time_unix_nano or pb.start_time_unix_nano == 0:
        return "span times missing or end before start"
    if pb.start_time_unix_nano / 1e9 < now - retention_seconds:
        return "span older than the retention"
    if pb.end_time_unix_nano / 1e9 > now + MAX_FUTURE_SECONDS:
        return "span ends more than 10 minutes in the future"
    return None


def _span(pb: PbSpan, service: str, host: str) -> tuple[Span, bool]:
    all_attrs = common.attributes(pb.attributes)
    attrs, dropped = _bounded_attrs(all_attrs, MAX_SPAN_ATTRIBUTES)
    events = []
    for ev in list(pb.events)[:MAX_SPAN_EVENTS]:
        ev_attrs, ev_dropped = _bounded_attrs(common.attributes(ev.attributes), MAX_EVENT_ATTRIBUTES)
        dropped += ev_dropped
        events.append(SpanEvent(ev.name, ev.time_unix_nano / 1e9, ev_attrs))
    dropped += max(0, len(pb.events) - MAX_SPAN_EVENTS)
    route = all_attrs.get("http.route")
    span = Span(
        trace_id=hex_id(pb.trace_id),
        span_id=hex_id(pb.span_id),
        parent_span_id=hex_id(pb.parent_span_id) or None,
        name=pb.name[:MAX_ATTRIBUTE_VALUE_LEN],
        kind=KINDS[pb.kind] if 0 <= pb.kind < len(KINDS) else "unspecified",
        service=service,
        host=host,
        start=pb.start_time_unix_nano / 1e9,
        end=pb.end_time_unix_nano / 1e9,
        duration_ms=(pb.end_time_unix_nano - pb.start_time_unix_nano) / 1e6,
        status_code=STATUSES[pb.status.code] if 0 <= pb.status.code < len(STATUSES) else "unset",
        status_message=pb.status.message[:MAX_ATTRIBUTE_VALUE_LEN],
        attributes=attrs,
        events=tuple(events),
        route=str(route)[:MAX_ATTRIBUTE_VALUE_LEN] if route not in (None, "") else None,
        http_status_code=_int_attr(all_attrs, "http.response.status_code", "http.status_code"),
    )
    return span, dropped > 0


def _errors(pb: PbSpan, span: Span) -> list[ErrorEvent]:
    if span.status_code != "error":
        return []
    out = []
    for ev in pb.events:
        if ev.name != "exception":
            continue
        attrs = common.attributes(ev.attributes)  # unbounded copy: the stack may exceed span limits
        type_ = common.stringify(attrs.get("exception.type")) or "Error"
        message = common.stringify(attrs.get("exception.message"))[:MAX_ERROR_MESSAGE]
        stack = common.stringify(attrs.get("exception.stacktrace"))[:MAX_ERROR_STACK] or None
        out.append(
            ErrorEvent(
                fingerprint=fingerprint(type_, message, stack),
                type=type_[:200],
                message=message,
                stack=stack,
                service=span.service,
                host=span.host,
                ts=ev.time_unix_nano / 1e9 or span.end,
                trace_id=span.trace_id,
            )
        )
    return out


def bucket_counts(values: list[float], bounds: tuple[float, ...]) -> tuple[int, ...]:
    """Counts per explicit bucket: bucket i holds `bounds[i-1] < v <= bounds[i]` (OTel layout)."""
    counts = [0] * (len(bounds) + 1)
    for v in values:
        counts[bisect_left(bounds, v)] += 1  # first bound >= v
    return tuple(counts)


def _histogram(values: list[float], bounds: tuple[float, ...]) -> Histogram:
    return Histogram(
        bounds, bucket_counts(values, bounds), sum(values), len(values), min(values), max(values)
    )


def derived_points(spans: list[Span]) -> list[Point]:
    """Application metrics from SERVER spans (see the module docstring); one point per series, stamped
    with the latest span end of its group."""
    groups: dict[tuple[str, str, str], list[Span]] = defaultdict(list)
    users: dict[tuple[str, str], set[str]] = defaultdict(set)
    sessions: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for s in spans:
        session = s.attributes.get("session.duration")
        if isinstance(session, int | float) and not isinstance(session, bool) and session >= 0:
            sessions[(s.host, s.service)].append((s.end, float(session)))
        if s.kind != "server":
            continue
        groups[(s.host, s.service, s.route or s.name)].append(s)
        user = s.attributes.get("enduser.id") or s.attributes.get("session.id")
        if user not in (None, ""):
            users[(s.host, s.service)].add(common.stringify(user))
    points: list[Point] = []
    for (host, service, route), group in sorted(groups.items()):
        labels = (("http.route", route[:256]), ("service", service))
        ts = max(s.end for s in group)
        points.append(
            Point(
                host,
                "http.server.request.duration",
                labels,
                ts,
                None,
                _histogram([s.duration_ms / 1000.0 for s in group], DURATION_BUCKETS),
            )
        )
        points.append(Point(host, "http.server.request.count", labels, ts, float(len(group))))
        points.append(
            Point(host, "http.server.error.count", labels, ts, float(sum(1 for s in group if s.is_error)))
        )
    for (host, service), ids in sorted(users.items()):
        ts = max(s.end for s in spans if s.host == host and s.service == service and s.kind == "server")
        points.append(Point(host, "app.users.active", (("service", service),), ts, float(len(ids))))
    for (host, service), items in sorted(sessions.items()):
        ts = max(end for end, _ in items)
        points.append(
            Point(
                host,
                "app.session.duration",
                (("service", service),),
                ts,
                None,
                _histogram([d for _, d in items], SESSION_BUCKETS),
            )
        )
    return points
