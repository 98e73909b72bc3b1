"""Ingest use cases: turn validated wire batches into stored points and error groups.

The whole batch is checked before anything is written (timestamps, cardinality), so a rejected batch
stores nothing. Imports domain and ports only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vigil.capabilities import put_series_batches
from vigil.config import Config
from vigil.domain.batches import check_idempotency_key
from vigil.domain.catalog import unit_range_error
from vigil.domain.errors import Invalid, LimitExceeded
from vigil.domain.errors_grouping import fingerprint
from vigil.domain.identity import parse_series_key
from vigil.domain.models import (
    MAX_FUTURE_SECONDS,
    ErrorBatch,
    ErrorEvent,
    Histogram,
    HistogramIn,
    Point,
    SampleBatch,
)
from vigil.domain.records import distinct_series_keys
from vigil.domain.series_batch import HostBatch, SeriesSamples, points_of
from vigil.domain.timeparse import parse_instant
from vigil.ports import ChangeFeed, Store


def accepted_time(
    raw: float | int | str | None, *, now: float, retention_seconds: float, field: str
) -> float:
    """A pushed timestamp (default: receipt time) inside the acceptance window.

    Raises:
        Invalid: unreadable, older than the retention, or more than 10 minutes ahead.
    """
    ts = now if raw is None else parse_instant(raw, now=now, field=field)
    if ts < now - retention_seconds:
        raise Invalid(f"{field} is older than the {retention_seconds / 86400:g}-day retention", field=field)
    if ts > now + MAX_FUTURE_SECONDS:
        raise Invalid(f"{field} is more than 10 minutes in the future (check the host's clock)", field=field)
    return ts


@dataclass(frozen=True, slots=True)
class CheckedBatch:
    """A `POST /v1/samples` body that passed every check that needs no store: its samples (timestamps
    inside the acceptance window, values in their unit's range), ready for `store_batch`, as `points`
    or — the fast path's plain values — as columns per series in `series` (`points` empty then).
    `timestamped`: every sample carried an explicit `ts` (content de-duplication applies)."""

    host: str
    batch_id: str | None
    push_interval: float | None
    points: list[Point]
    timestamped: bool
    series: list[SeriesSamples] | None = None

    def all_points(self) -> list[Point]:
        """The samples as points, whichever form they came in (series by series for columns)."""
        return self.points if self.series is None else points_of(self.host, self.series)


def histogram_record(h: HistogramIn) -> Histogram:
    """The stored form of a validated wire histogram."""
    return Histogram(
        tuple(float(b) for b in h.bounds),
        tuple(h.counts),
        float(h.sum),
        h.count,
        None if h.min is None else float(h.min),
        None if h.max is None else float(h.max),
    )


def checked_batch(batch: SampleBatch, now: float, retention_seconds: float) -> CheckedBatch:
    """The model path: a `SampleBatch` pydantic already validated, checked against time and units.

    Raises:
        Invalid: a timestamp is unreadable, older than the retention or more than 10 min ahead, or a
            value is outside its catalogue unit's range (a ratio sent as a percentage).
    """
    points: list[Point] = []
    for i, s in enumerate(batch.samples):
        ts = accepted_time(s.ts, now=now, retention_seconds=retention_seconds, field=f"samples[{i}].ts")
        if s.value is not None:
            wrong_unit = unit_range_error(s.metric, float(s.value))
            if wrong_unit:
                raise Invalid(wrong_unit, field=f"samples[{i}].value")
        hist = None if s.histogram is None else histogram_record(s.histogram)
        points.append(
            Point(
                batch.host,
                s.metric,
                tuple(sorted(s.labels.items())),
                ts,
                None if s.value is None else float(s.value),
                hist,
            )
        )
    return CheckedBatch(
        batch.host,
        batch.batch_id,
        None if batch.push_interval is None else float(batch.push_interval),
        points,
        # Identical content counts as a retry only when no sample was stamped with the receipt time.
        all(s.ts is not None for s in batch.samples),
    )


def check_cardinality(store: Store, host: str, points: Sequence[Point], config: Config) -> None:
    """Refuse a batch that would push a host past its distinct-series or label-value limits.

    Raises:
        LimitExceeded: naming the limit and its setting.
    """
    check_series_cardinality(store, host, distinct_series_keys(points), config)


def check_series_cardinality(store: Store, host: str, batch_series: set[str], config: Config) -> None:
    """`check_cardinality` for a batch's distinct series keys.

    Raises:
        LimitExceeded: naming the limit and its setting.
    """
    known = store.known_series(host, batch_series)
    new = batch_series - known
    if not new:
        return
    if len(known) + len(new) > config.max_series_per_host:
        raise LimitExceeded(
            f"host {host!r} would have {len(known) + len(new)} distinct series, over the limit of "
            f"{config.max_series_per_host} (VIGIL_MAX_SERIES_PER_HOST); "
            "check for a label with unbounded values",
            field="samples",
        )
    values: dict[str, set[str]] = {}
    for skey in known | new:
        for key, value in parse_series_key(skey)[2]:
            values.setdefault(key, set()).add(value)
    for key, seen in values.items():
        if len(seen) > config.max_label_values:
            raise LimitExceeded(
                f"label {key!r} on host {host!r} would have {len(seen)} distinct values, over the limit of "
                f"{config.max_label_values} (VIGIL_MAX_LABEL_VALUES)",
                field="samples.labels",
            )


def ingest_samples(
    store: Store,
    config: Config,
    batch: SampleBatch,
    now: float,
    idempotency_key: str | None = None,
    *,
    guard: bool = True,
    changes: ChangeFeed | None = None,
) -> tuple[int, bool]:
    """Validate and store one batch; returns (accepted count, was it a duplicate). `guard=False` skips
    the per-host cardinality guard: only for Vigil's own series (the check runner's). `changes` hears
    which host and metrics a stored (not duplicate) batch touched."""
    idempotency_key = check_idempotency_key(idempotency_key)
    checked = checked_batch(batch, now, config.retention_seconds)
    return store_batch(store, config, checked, now, idempotency_key, guard=guard, changes=changes)


def store_batch(
    store: Store,
    config: Config,
    batch: CheckedBatch,
    now: float,
    idempotency_key: str | None = None,
    *,
    guard: bool = True,
    changes: ChangeFeed | None = None,
) -> tuple[int, bool]:
    """Store a checked batch whole; returns (accepted count, was it a duplicate). `idempotency_key`
    as `check_idempotency_key` passed it; `changes` as in `ingest_samples`.

    Raises:
        LimitExceeded: the host would pass its cardinality limits (`guard`; nothing stored).
        Unavailable: the store could not write.
    """
    if batch.series is not None:
        return _store_series(store, config, batch, batch.series, now, idempotency_key, guard, changes)
    points = batch.points
    if guard:
        check_cardinality(store, batch.host, points, config)
    stored = store.put_samples(
        batch.host,
        points,
        batch.batch_id or idempotency_key,
        now,
        batch.timestamped,
        push_interval=batch.push_interval,
    )
    if stored:
        from vigil.services.rollups import note_late_samples

        note_late_samples(store, batch.host, points, now)  # late samples re-trigger their rollup hour
        if changes is not None:
            changes.samples_stored(batch.host, {p.metric for p in points})
    return len(points), not stored


def _store_series(
    store: Store,
    config: Config,
    checked: CheckedBatch,
    series: list[SeriesSamples],
    now: float,
    idempotency_key: str | None,
    guard: bool,
    changes: ChangeFeed | None,
) -> tuple[int, bool]:
    """`store_batch` for a batch of columns: the same checks, key and markers, no `Point` per sample."""
    from vigil.services.rollups import late_batch_markers

    batch = HostBatch(
        checked.host, series, checked.batch_id or idempotency_key, checked.timestamped, checked.push_interval
    )
    if guard:
        check_series_cardinality(store, batch.host, batch.series_keys(), config)
    (stored,) = put_series_batches(store, [batch], now, lambda kept: late_batch_markers(kept, now))
    if stored and changes is not None:
        changes.samples_stored(batch.host, batch.metrics())
    return batch.count, not stored


def ingest_errors(store: Store, config: Config, batch: ErrorBatch, now: float) -> int:
    events = []
    for i, e in enumerate(batch.errors):
        ts = accepted_time(e.ts, now=now, retention_seconds=config.retention_seconds, field=f"errors[{i}].ts")
        events.append(
            ErrorEvent(
                fingerprint(e.type, e.message, e.stack),
                e.type,
                e.message,
                e.stack,
                e.service,
                e.host,
                ts,
                e.trace_id,
            )
        )
    store.record_errors(events)
    return len(events)
