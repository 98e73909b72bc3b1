"""The `/api/metrics` current snapshot: KPI sections with trends, like the seed's Example 2.

`build_snapshot(latest, previous, now)` gets the raw points of the latest window (e.g. the last 60 s)
and of the window before it, for the metrics in `SNAPSHOT_METRICS`, and returns sections `system`,
`application`, `database`, `business`. Each KPI is `{"value", "unit", "trend", "change_pct", "hosts",
"title", "threshold"}` in display units (from `catalog`), or None when no host sent the metric in the
latest window. The trend compares the latest window's value with the previous window's.

How a KPI is computed over a window:
  - gauges: each series is averaged over the window, then series are averaged (ratios: CPU, memory %)
    or summed (additive quantities: bytes/s over directions and hosts, connections);
  - histograms: merged across hosts and the window, then a percentile or the mean (never averaged
    percentiles); request rate = observations / window; error rate = observations whose
    `http.response.status_code` is >= 500 / all; slow queries = observations above 1 s;
  - request histograms derived from SERVER spans carry no status label (one series per route, not per
    status): their errors are the `http.server.error.count` points of the same series (host and
    labels, written with them). An app that sends its own histograms (with a status label) and spans
    is counted once: per host and service, its own histograms replace the span-derived ones;
  - counters (cumulative): per-series increase / seconds with reset handling, summed across series.

Standard library only (plus `vigil.domain`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from vigil.domain import histograms
from vigil.domain.accumulate import counter_increase
from vigil.domain.catalog import info
from vigil.domain.records import Point
from vigil.domain.timeparse import iso

How = Literal[
    "avg", "sum", "p50", "p95", "p99", "mean", "rate", "requests", "errors", "success", "slow", "pool"
]
FLAT_PCT = 1.0  # |change| under 1 % is "flat": a KPI card should not flicker up/down on noise
SLOW_QUERY_SECONDS = 1.0
STATUS_LABELS = ("http.response.status_code", "http.status_code", "status_code", "status")
POOL_STATE_LABELS = ("db.client.connection.state", "state")


@dataclass(frozen=True, slots=True)
class Kpi:
    key: str
    metric: str
    how: How
    title: str | None = None
    labels: tuple[tuple[str, str], ...] = ()  # only series with these label values (e.g. state=used)
    unit: str | None = None  # display unit/scale when not the catalogue's
    scale: float | None = None
    threshold: str | None = None  # `config.Thresholds` field


SECTIONS: dict[str, tuple[Kpi, ...]] = {
    "system": (
        Kpi("cpu", "system.cpu.utilization", "avg", threshold="cpu_percent"),
        Kpi("memory", "system.memory.utilization", "avg", threshold="memory_percent"),
        Kpi("memory_used", "system.memory.usage", "sum", labels=(("state", "used"),)),
        Kpi("disk_io", "system.disk.io", "sum"),
        Kpi("network_io", "system.network.io", "sum"),
        Kpi("connections", "system.network.connections", "sum"),
        Kpi(
            "db_connections",
            "db.client.connection.count",
            "sum",
            "DB connections",
            labels=(("state", "used"),),
        ),
    ),
    "application": (
        Kpi("response_time_p50", "http.server.request.duration", "p50", "API response time p50"),
        Kpi(
            "response_time_p95",
            "http.server.request.duration",
            "p95",
            "API response time p95",
            threshold="api_p95_ms",
        ),
        Kpi("response_time_p99", "http.server.request.duration", "p99", "API response time p99"),
        Kpi(
            "request_rate",
            "http.server.request.duration",
            "requests",
            "Request rate",
            unit="req/s",
            scale=1.0,
        ),
        Kpi(
            "error_rate",
            "http.server.request.duration",
            "errors",
            "Error rate",
            unit="%",
            scale=1.0,
            threshold="error_rate_percent",
        ),
        Kpi("success_rate", "http.server.request.duration", "success", "Success rate", unit="%", scale=1.0),
        Kpi("concurrent_users", "app.users.concurrent", "sum"),
        Kpi("session_duration", "app.session.duration", "mean"),
    ),
    "database": (
        Kpi("query_time", "db.client.operation.duration", "mean", threshold="db_query_ms"),
        Kpi(
            "slow_queries",
            "db.client.operation.duration",
            "slow",
            "Slow queries (> 1 s)",
            unit="queries",
            scale=1.0,
        ),
        Kpi(
            "pool_usage",
            "db.client.connection.count",
            "pool",
            "Pool usage",
            labels=(("state", "used"),),
            unit="%",
            scale=1.0,
        ),
        Kpi("cache_hit_rate", "db.cache.hit_ratio", "avg"),
        Kpi("transaction_rate", "db.transaction.count", "rate"),
        Kpi("lock_wait", "db.lock.wait.duration", "mean"),
    ),
    "business": (
        Kpi("active_orders", "business.orders.active", "sum"),
        Kpi("checkout_conversion", "business.checkout.conversion", "avg"),
        Kpi("cart_abandonment", "business.cart.abandonment", "avg"),
        Kpi("product_views", "business.product.views", "rate"),
        Kpi("search_queries", "business.search.queries", "rate"),
        Kpi("revenue", "business.revenue", "rate"),
    ),
}

# A histogram derived from spans (no status label) → the metric holding its series' error counts.
SPAN_ERROR_COUNTS = {"http.server.request.duration": "http.server.error.count"}

# What the caller must fetch (latest and previous window) for `build_snapshot`.
SNAPSHOT_METRICS: tuple[str, ...] = tuple(
    dict.fromkeys(
        [k.metric for kpis in SECTIONS.values() for k in kpis]
        + ["db.client.connection.max", *SPAN_ERROR_COUNTS.values()]
    )
)


def _label(labels: Iterable[tuple[str, str]], keys: Sequence[str]) -> str | None:
    found = dict(labels)
    return next((found[k] for k in keys if k in found), None)


def _matches(p: Point, want: tuple[tuple[str, str], ...]) -> bool:
    if not want:
        return True
    have = dict(p.labels)
    # the agent writes `state`, OTel's pool metric `db.client.connection.state`: accept either
    return all(have.get(k, have.get(f"db.client.connection.{k}")) == v for k, v in want)


def _series_means(points: Iterable[Point]) -> list[float]:
    acc: dict[tuple[str, tuple[tuple[str, str], ...]], list[float]] = defaultdict(list)
    for p in points:
        if p.value is not None:
            acc[(p.host, p.labels)].append(p.value)
        elif p.histogram is not None and p.histogram.count:
            acc[(p.host, p.labels)].append(p.histogram.sum / p.histogram.count)
    return [sum(v) / len(v) for v in acc.values()]


def _counter_rate(points: Iterable[Point]) -> float | None:
    acc: dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[float, float]]] = defaultdict(list)
    for p in points:
        if p.value is not None:
            acc[(p.host, p.labels)].append((p.ts, p.value))
    rates = []
    for samples in acc.values():
        pairs = counter_increase(sorted(samples))
        seconds = sum(s for _, _, s in pairs)
        if seconds > 0:
            rates.append(sum(i for _, i, _ in pairs) / seconds)
    return sum(rates) if rates else None


def _is_error(p: Point) -> bool:
    status = _label(p.labels, STATUS_LABELS)
    return status is not None and status.isdigit() and int(status) >= 500


def _has_status(p: Point) -> bool:
    return _label(p.labels, STATUS_LABELS) is not None


def _service(p: Point) -> str | None:
    return dict(p.labels).get("service")


def _once_per_app(points: list[Point]) -> list[Point]:
    """Per host and service, drop the span-derived histograms (no status label) when the app also sent
    its own (with one): both measure the same requests."""
    own = {(p.host, _service(p)) for p in points if p.histogram is not None and _has_status(p)}
    if not own:
        return points
    return [p for p in points if p.histogram is None or _has_status(p) or (p.host, _service(p)) not in own]


def _span_errors(points: list[Point], counts: list[Point]) -> float:
    """Errors of the histogram series without a status label, from their span-derived error counts."""
    series = {(p.host, p.labels) for p in points if p.histogram is not None and not _has_status(p)}
    return sum(c.value for c in counts if c.value is not None and (c.host, c.labels) in series)


def _compute(kpi: Kpi, points: list[Point], extra: Mapping[str, list[Point]], window: float) -> float | None:
    """The KPI's raw value (stored units; rates per second) over one window's points of its metric."""
    if kpi.how in ("avg", "sum"):
        means = _series_means(points)
        if not means:
            return None
        return sum(means) / len(means) if kpi.how == "avg" else sum(means)
    if kpi.how == "rate":
        return _counter_rate(points)
    if kpi.how == "pool":
        used = _series_means(points)
        limit = _series_means(extra.get("db.client.connection.max", []))
        return 100.0 * sum(used) / sum(limit) if used and limit and sum(limit) > 0 else None
    hists = [p.histogram for p in points if p.histogram is not None]
    plain = [p.value for p in points if p.value is not None]
    if kpi.how == "mean":
        n = sum(h.count for h in hists) + len(plain)
        return (sum(h.sum for h in hists) + sum(plain)) / n if n else None
    merged = histograms.merge_all(hists)
    if merged is None or merged.count == 0:
        return None
    if kpi.how in ("p50", "p95", "p99"):
        return histograms.quantile(merged, int(kpi.how[1:]) / 100.0)
    if kpi.how == "requests":
        return merged.count / window
    if kpi.how == "slow":
        return histograms.count_above(merged, SLOW_QUERY_SECONDS)
    errors: float = sum(p.histogram.count for p in points if p.histogram is not None and _is_error(p))
    if kpi.metric in SPAN_ERROR_COUNTS:
        errors += _span_errors(points, extra.get(SPAN_ERROR_COUNTS[kpi.metric], []))
    error_pct = 100.0 * min(errors, merged.count) / merged.count
    return error_pct if kpi.how == "errors" else 100.0 - error_pct


def _trend(value: float, previous: float | None) -> tuple[str, float | None]:
    if previous is None:
        return "flat", None
    if previous == 0:
        return ("flat" if value == 0 else "up" if value > 0 else "down"), None
    change = 100.0 * (value - previous) / abs(previous)
    if abs(change) < FLAT_PCT:
        return "flat", round(change, 2)
    return ("up" if change > 0 else "down"), round(change, 2)


def _select(kpi: Kpi, by_metric: Mapping[str, list[Point]]) -> list[Point]:
    points = [p for p in by_metric.get(kpi.metric, []) if _matches(p, kpi.labels)]
    return _once_per_app(points) if kpi.metric in SPAN_ERROR_COUNTS else points


def by_metric(points: Iterable[Point]) -> dict[str, list[Point]]:
    """Points grouped by metric name (what `kpi_value` reads)."""
    out: dict[str, list[Point]] = defaultdict(list)
    for p in points:
        out[p.metric].append(p)
    return out


def kpi_value(
    kpi: Kpi, grouped: Mapping[str, list[Point]], window: float
) -> tuple[float | None, list[Point]]:
    """The KPI's raw value (stored units) over one window's points grouped by metric, and the points of
    its metric it was computed from. The fleet card passes every host's points; `request_ranks` one host's."""
    points = _select(kpi, grouped)
    return _compute(kpi, points, grouped, window), points


def display_of(kpi: Kpi) -> tuple[str, float]:
    """(display unit, scale from stored units) of a KPI: its own override, else the catalogue's."""
    meta = info(kpi.metric)
    return (kpi.unit if kpi.unit is not None else meta.display_unit), (
        kpi.scale if kpi.scale is not None else meta.scale
    )


def kpi_of(section: str, key: str) -> Kpi:
    """The KPI `key` of `section` (`KeyError` when there is none)."""
    return next(k for k in SECTIONS[section] if k.key == key)


def build_snapshot(
    latest: list[Point],
    previous: list[Point],
    now: float,
    *,
    window: float = 60.0,
    thresholds: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """The snapshot body. `latest`: points with ts in (now - window, now]; `previous`: the window
    before. `thresholds` maps `config.Thresholds` field names to values (display units), e.g.
    `dataclasses.asdict(config.thresholds)`; KPIs with a threshold key then carry it."""
    cur, prev = by_metric(latest), by_metric(previous)
    out: dict[str, Any] = {"timestamp": iso(now), "window": window}
    for section, kpis in SECTIONS.items():
        body: dict[str, Any] = {}
        for kpi in kpis:
            raw, pts = kpi_value(kpi, cur, window)
            if raw is None or not math.isfinite(raw):
                body[kpi.key] = None
                continue
            unit, scale = display_of(kpi)
            before, _ = kpi_value(kpi, prev, window)
            value = raw * scale
            trend, change = _trend(value, None if before is None else before * scale)
            body[kpi.key] = {
                "title": kpi.title or info(kpi.metric).title,
                "value": value,
                "unit": unit,
                "trend": trend,
                "change_pct": change,
                "hosts": len({p.host for p in pts}),
                "threshold": (thresholds or {}).get(kpi.threshold) if kpi.threshold else None,
            }
        out[section] = body
    return out


def with_thresholds(snapshot: dict[str, Any], thresholds: Mapping[str, float]) -> dict[str, Any]:
    """A snapshot built without thresholds (the fleet job's) with each KPI's threshold filled in."""
    out = dict(snapshot)
    for section, kpis in SECTIONS.items():
        body = dict(out.get(section) or {})
        for kpi in kpis:
            if kpi.threshold and body.get(kpi.key):
                body[kpi.key] = {**body[kpi.key], "threshold": thresholds.get(kpi.threshold)}
        out[section] = body
    return out
