"""OTLP ingest use cases: the whole of `POST /v1/metrics` and `POST /v1/traces` below HTTP.

Decode (`adapters.otlp.decode`), map to points/spans/errors, apply the per-host cardinality guard,
store, and encode the OTLP response. Unlike `/v1/samples`, OTLP is per point: a host whose points
would break the cardinality guard has those points rejected and counted in `partial_success`, and so
is a point outside its catalogue unit's range (a ratio sent as a percentage); the rest of the export
is stored. A retried identical export is not stored twice (the sample store's batch
key is a content hash when every point has a time; spans are keyed by id), and cumulative-to-delta
state advances only once a host's points are stored.

Raises what `decode_*` raises (Invalid → 400, TooLarge → 413, UnsupportedMediaType → 415) and
`Unavailable` from the stores (503). Must not import `vigil.api`.
"""

from __future__ import annotations

from vigil.adapters.otlp.decode import (
    decode_metrics,
    decode_traces,
    encode_metrics_response,
    encode_traces_response,
)
from vigil.adapters.otlp.metrics import MappingResult, map_metrics
from vigil.adapters.otlp.traces import map_traces
from vigil.config import Config
from vigil.domain.catalog import unit_range_error
from vigil.domain.errors import LimitExceeded
from vigil.domain.records import Point
from vigil.ports import ChangeFeed, CumulativeState, Store, TraceStore
from vigil.services.ingest import check_cardinality
from vigil.services.rollups import note_late_samples


def _outside_unit_range(result: MappingResult, point: Point) -> bool:
    """Reject a point whose value its catalogue unit rules out (a ratio sent as a percentage), alone:
    `/v1/samples` refuses the whole batch, OTLP answers per point."""
    why = None if point.value is None else unit_range_error(point.metric, point.value)
    if why is not None:
        result.reject(why)
    return why is not None


def _store_points(
    store: Store, config: Config, result: MappingResult, now: float, changes: ChangeFeed | None = None
) -> None:
    """Store each host's points, then advance its cumulative state: a host whose write raises
    (`Unavailable` → 503) or whose points are refused keeps its state, so the exporter's retry (or
    its next export) carries the whole delta again."""
    by_host = result.by_host()
    for host in sorted(by_host.keys() | result.pending.keys()):
        points = [p for p in by_host.get(host, []) if not _outside_unit_range(result, p)]
        if points:
            try:
                check_cardinality(store, host, points, config)
            except LimitExceeded as exc:
                result.reject(f"cardinality limit: {exc.message}", len(points))
                continue
            # Content identifies a retried export only when every point carried its own time.
            if store.put_samples(host, points, None, now, timestamped=not result.untimed):
                note_late_samples(store, host, points, now)  # late samples re-trigger their rollup hour
                if changes is not None:
                    changes.samples_stored(host, {p.metric for p in points})
        result.commit(host)


def ingest_otlp_metrics(
    store: Store,
    config: Config,
    state: CumulativeState,
    body: bytes,
    content_type: str | None,
    content_encoding: str | None,
    now: float,
    changes: ChangeFeed | None = None,
) -> tuple[bytes, str]:
    """Handle one `POST /v1/metrics`; returns the 200 response (body, Content-Type)."""
    request, encoding, unreadable = decode_metrics(body, content_type, content_encoding)
    result = map_metrics(request, now, state, config.retention_seconds)
    result.reject_unreadable(unreadable)
    _store_points(store, config, result, now, changes)
    return encode_metrics_response(result.rejected, result.message(), encoding)


def ingest_otlp_traces(
    store: Store,
    traces: TraceStore,
    config: Config,
    body: bytes,
    content_type: str | None,
    content_encoding: str | None,
    now: float,
    derive_metrics: bool = True,
) -> tuple[bytes, str]:
    """Handle one `POST /v1/traces`: spans, derived application metrics, error events."""
    request, encoding, unreadable = decode_traces(body, content_type, content_encoding)
    result = map_traces(request, now, config.retention_seconds, derive_metrics)
    result.reject_unreadable(unreadable)
    traces.put_spans(result.spans, now)
    if result.errors:
        store.record_errors(result.errors)
    span_rejections = result.rejected
    _store_points(store, config, result, now)  # derived points refused by the guard show in the message
    return encode_traces_response(span_rejections, result.message(), encoding)
