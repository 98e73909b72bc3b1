"""OTLP metrics (`ExportMetricsServiceRequest`) → Vigil `Point`s, with per-point rejection.

The mapping table is in `docs/otlp.md`. In short: gauges and non-monotonic sums are stored as values;
monotonic sums and histograms are stored as per-interval deltas (cumulative ones converted with the
caller's `CumulativeState`, resets handled); exponential histograms become explicit-bucket
histograms (`expo`); summaries become one gauge per quantile with a `quantile` label. A point that
cannot be stored (NaN/inf, outside [now - retention, now + 10 min], bad metric name, malformed
buckets) is rejected alone and counted for the response's `partial_success`; labels over the limit
are dropped with a warning.

Imports opentelemetry-proto; must not import `vigil.api`, boto3 or sqlite3.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Literal

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    ExponentialHistogramDataPoint,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
)

from vigil.adapters.otlp import common
from vigil.adapters.otlp.expo import Expo, expo_delta, normalize, to_histogram
from vigil.adapters.otlp.lenient import Unreadable
from vigil.domain.cumulative import CumulativeEntry, histogram_delta, sum_delta
from vigil.domain.identity import series_key
from vigil.domain.models import MAX_FUTURE_SECONDS, METRIC_NAME_RE, Histogram, Point, storable_value
from vigil.ports import CumulativeState

DELTA = AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
CUMULATIVE = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
MAX_MESSAGE_REASONS = 20
NO_RECORDED_VALUE = 1  # DataPointFlags.FLAG_NO_RECORDED_VALUE_MASK: a staleness marker, not data


class _Reject(Exception):
    """One data point is refused; `reason` goes into the partial-success message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class MappingResult:
    """What an export became: points to store, and what to tell the client.

    Cumulative-to-delta state is not advanced while mapping: the new observations wait in `pending`
    (per host) until the caller has stored that host's points and calls `commit(host)`. A write the
    store refuses (503) then leaves the state where it was, and the exporter's retry of the same
    export yields the same deltas instead of looking "already seen"."""

    points: list[Point] = field(default_factory=list)
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    pending: dict[str, dict[str, CumulativeEntry]] = field(default_factory=dict)
    untimed: bool = False  # some point had no time and was stamped with the receipt time
    state: CumulativeState | None = None

    def commit(self, host: str) -> None:
        """Advance the cumulative state with `host`'s observations (its points are stored)."""
        if self.state is not None:
            for key, entry in self.pending.pop(host, {}).items():
                self.state.put(key, entry)

    def reject(self, reason: str, n: int = 1) -> None:
        self.rejected += n
        self.reasons[reason] += n

    def reject_unreadable(self, unreadable: Unreadable) -> None:
        """Count what the decoder could not read (`lenient`) among this export's rejections."""
        for reason, n in unreadable.reasons.items():
            self.reject(reason, n)

    def message(self) -> str:
        """The `partial_success.error_message`: rejections by reason, then warnings; "" when clean.
        At most `MAX_MESSAGE_REASONS` reasons are spelled out (each names its item); the rest are
        summed so one broken export cannot make a megabyte answer."""
        parts = [f"{n} rejected: {why}" for why, n in sorted(self.reasons.items())]
        parts += [f"{n} {what}" for what, n in sorted(self.warnings.items())]
        if len(parts) > MAX_MESSAGE_REASONS:
            parts = [*parts[:MAX_MESSAGE_REASONS], f"and {len(parts) - MAX_MESSAGE_REASONS} more reasons"]
        return "; ".join(parts)

    def by_host(self) -> dict[str, list[Point]]:
        """Points grouped for `Store.put_samples(host, points, ...)`."""
        out: dict[str, list[Point]] = {}
        for p in self.points:
            out.setdefault(p.host, []).append(p)
        return out


@dataclass(frozen=True)
class _Ctx:
    host: str
    service: str | None
    metric: str
    now: float
    retention_seconds: float
    state: CumulativeState
    result: MappingResult

    def previous(self, key: str) -> CumulativeEntry | None:
        """The last observation of a series: this export's own earlier point, else the state's."""
        pending = self.result.pending.get(self.host, {})
        return pending[key] if key in pending else self.state.get(key)

    def remember(self, key: str, entry: CumulativeEntry) -> None:
        self.result.pending.setdefault(self.host, {})[key] = entry

    def ts(self, time_ns: int) -> float:
        if not time_ns:
            self.result.untimed = True
        ts = time_ns / 1e9 if time_ns else self.now  # an unset time means "now", like /v1/samples
        if ts < self.now - self.retention_seconds:
            raise _Reject("timestamp older than the retention")
        if ts > self.now + MAX_FUTURE_SECONDS:
            raise _Reject("timestamp more than 10 minutes in the future")
        return ts

    def labels(
        self, attrs: dict[str, Any], extra: dict[str, str] | None = None
    ) -> tuple[tuple[str, str], ...]:
        pairs, dropped = common.labels(self.service, attrs, extra)
        if dropped:
            self.result.warnings[
                "data points had labels beyond the limit of 10 (or unusable keys) dropped"
            ] += 1
        return pairs

    def emit(
        self,
        labels: tuple[tuple[str, str], ...],
        ts: float,
        value: float | None,
        histogram: Histogram | None = None,
    ) -> None:
        self.result.points.append(Point(self.host, self.metric, labels, ts, value, histogram))


def map_metrics(
    request: ExportMetricsServiceRequest,
    now: float,
    state: CumulativeState,
    retention_seconds: float = 7 * 86400.0,
) -> MappingResult:
    """Every data point of the export as zero or one `Point`s (one per quantile for summaries)."""
    result = MappingResult(state=state)
    for rm in request.resource_metrics:
        who = common.origin(rm.resource)
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                ctx = _Ctx(who.host, who.service, metric.name, now, retention_seconds, state, result)
                _map_metric(ctx, metric)
    return result


def _data_points(metric: Metric) -> Iterable[Any]:
    kind = metric.WhichOneof("data")
    return getattr(metric, kind).data_points if kind else ()


def _map_metric(ctx: _Ctx, metric: Metric) -> None:
    kind = metric.WhichOneof("data")
    if kind is None:  # no data, or a type this receiver does not know (unknown fields): say so
        ctx.result.reject(f"metric {metric.name[:100]!r} has no gauge, sum, histogram or summary data")
        return
    points = list(_data_points(metric))
    if not METRIC_NAME_RE.match(metric.name):
        ctx.result.reject("metric name does not match " + METRIC_NAME_RE.pattern, len(points))
        return
    for dp in points:
        if dp.flags & NO_RECORDED_VALUE:
            continue
        try:
            if kind == "gauge":
                _number(ctx, dp, as_delta=False, temporality=DELTA)
            elif kind == "sum":
                _number(
                    ctx, dp, as_delta=metric.sum.is_monotonic, temporality=metric.sum.aggregation_temporality
                )
            elif kind == "histogram":
                _histogram(ctx, dp, metric.histogram.aggregation_temporality)
            elif kind == "exponential_histogram":
                _exponential(ctx, dp, metric.exponential_histogram.aggregation_temporality)
            else:
                _summary(ctx, dp)
        except _Reject as rej:
            ctx.result.reject(rej.reason)


def _finite(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise _Reject(f"{what} is NaN or infinite")
    return value


def _storable(value: float, what: str) -> float:
    try:
        return storable_value(value, what)
    except ValueError as exc:
        raise _Reject(str(exc)) from exc


def _number(ctx: _Ctx, dp: NumberDataPoint, *, as_delta: bool, temporality: int) -> None:
    which = dp.WhichOneof("value")
    if which is None:
        raise _Reject("number data point without a value")
    value = _storable(float(dp.as_double if which == "as_double" else dp.as_int), "value")
    ts = ctx.ts(dp.time_unix_nano)
    labels = ctx.labels(common.attributes(dp.attributes))
    if as_delta and temporality == CUMULATIVE:
        key = series_key(ctx.host, ctx.metric, labels)
        delta, entry = sum_delta(
            ctx.previous(key), dp.start_time_unix_nano, dp.time_unix_nano, value, ctx.state.tracking_since
        )
        ctx.remember(key, entry)
        if delta is None:
            return
        value = delta
    ctx.emit(labels, ts, value)


def _opt(dp: HistogramDataPoint | ExponentialHistogramDataPoint, name: Literal["min", "max"]) -> float | None:
    return _finite(getattr(dp, name), name) if dp.HasField(name) else None


def _histogram(ctx: _Ctx, dp: HistogramDataPoint, temporality: int) -> None:
    bounds = tuple(_finite(b, "bucket bound") for b in dp.explicit_bounds)
    counts = tuple(dp.bucket_counts) or (dp.count,)
    if len(counts) != len(bounds) + 1:
        raise _Reject("histogram bucket_counts must have one more entry than explicit_bounds")
    if any(b2 <= b1 for b1, b2 in pairwise(bounds)):
        raise _Reject("histogram bounds are not strictly increasing")
    if sum(counts) != dp.count:
        raise _Reject("histogram count differs from the sum of bucket_counts")
    total = _storable(dp.sum, "histogram sum") if dp.HasField("sum") else 0.0
    hist = Histogram(bounds, counts, total, dp.count, _opt(dp, "min"), _opt(dp, "max"))
    ts = ctx.ts(dp.time_unix_nano)
    labels = ctx.labels(common.attributes(dp.attributes))
    if temporality == CUMULATIVE:
        key = series_key(ctx.host, ctx.metric, labels)
        delta, entry = histogram_delta(
            ctx.previous(key), dp.start_time_unix_nano, dp.time_unix_nano, hist, ctx.state.tracking_since
        )
        ctx.remember(key, entry)
        if delta is None:
            return
        hist = delta
    ctx.emit(labels, ts, None, hist)


def _exponential(ctx: _Ctx, dp: ExponentialHistogramDataPoint, temporality: int) -> None:
    if not -10 <= dp.scale <= 20:
        raise _Reject("exponential histogram scale outside [-10, 20]")
    low = dp.zero_count + sum(dp.negative.bucket_counts)
    e = Expo(
        dp.scale,
        dp.positive.offset,
        tuple(dp.positive.bucket_counts),
        low,
        _storable(dp.sum, "histogram sum") if dp.HasField("sum") else 0.0,
        dp.count,
        _opt(dp, "min"),
        _opt(dp, "max"),
    )
    if low + sum(e.counts) != dp.count:
        raise _Reject("histogram count differs from the sum of bucket_counts")
    ts = ctx.ts(dp.time_unix_nano)
    labels = ctx.labels(common.attributes(dp.attributes))
    if temporality == CUMULATIVE:
        key = series_key(ctx.host, ctx.metric, labels)
        delta, entry = expo_delta(
            ctx.previous(key), dp.start_time_unix_nano, dp.time_unix_nano, e, ctx.state.tracking_since
        )
        ctx.remember(key, entry)
        if delta is None:
            return
        e = delta
    try:
        hist = to_histogram(normalize(e))
    except OverflowError as exc:
        raise _Reject("exponential histogram buckets beyond the float range") from exc
    ctx.emit(labels, ts, None, hist)


def _summary(ctx: _Ctx, dp: Any) -> None:
    ts = ctx.ts(dp.time_unix_nano)
    attrs = common.attributes(dp.attributes)
    for q in dp.quantile_values:
        value = _storable(q.value, "quantile value")
        ctx.emit(ctx.labels(attrs, {"quantile": common.stringify(q.quantile)}), ts, value)
