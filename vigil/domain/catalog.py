"""The catalogue of metrics Vigil knows: the single source for names, units, display and sections.

`/api/metrics/catalog`, the `/api/metrics` snapshot and the dashboard all read `CATALOG`, so a metric's
title, unit and display scale are written once. Names follow OpenTelemetry semantic conventions where
one exists (docs/metrics.md lists which do); the rest use an `app.`, `db.` or `business.` prefix.
`unit` is the UCUM unit samples are stored in (what OpenTelemetry writes); the dashboard shows
`value * scale` in `display_unit` (ratio 0..1 -> %, bytes -> MB, seconds -> ms). For counters the
displayed value is the per-second rate times `scale` (per minute, per hour). `threshold` names the
`config.Thresholds` field that holds the metric's default alert threshold (in display units).

Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Section = Literal["system", "application", "database", "business", "custom"]
Kind = Literal["gauge", "counter", "histogram"]


@dataclass(frozen=True, slots=True)
class MetricInfo:
    name: str
    title: str
    section: Section
    kind: Kind
    unit: str
    display_unit: str
    scale: float
    default_agg: str
    description: str
    labels: tuple[str, ...] = ()
    threshold: str | None = None
    semconv: bool = False  # the name and unit come from OpenTelemetry semantic conventions

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "section": self.section,
            "kind": self.kind,
            "unit": self.unit,
            "display_unit": self.display_unit,
            "scale": self.scale,
            "default_agg": self.default_agg,
            "description": self.description,
            "labels": list(self.labels),
            "threshold": self.threshold,
            "semconv": self.semconv,
        }


MB = 1e-6  # decimal megabytes, as the seed's "MB" and "MB/s"


# fmt: off
def _m(name: str, title: str, section: Section, kind: Kind, unit: str, display_unit: str, scale: float,
       default_agg: str, description: str, labels: Sequence[str] = (), threshold: str | None = None,
       semconv: bool = False) -> MetricInfo:
    return MetricInfo(name, title, section, kind, unit, display_unit, scale, default_agg, description,
                      tuple(labels), threshold, semconv)
# fmt: on


# One row per metric reads better than the formatter's one argument per line.
# fmt: off
_ALL: tuple[MetricInfo, ...] = (
    # -- system (the psutil agent, vigil/agent/collector.py)
    _m("system.cpu.utilization", "CPU", "system", "gauge", "1", "%", 100.0, "avg",
       "Share of CPU time busy, all CPUs", ["cpu"], threshold="cpu_percent", semconv=True),
    _m("system.cpu.load_average.1m", "Load average (1 min)", "system", "gauge", "{thread}", "", 1.0, "avg",
       "1-minute load average", semconv=True),
    _m("system.cpu.load_average.5m", "Load average (5 min)", "system", "gauge", "{thread}", "", 1.0, "avg",
       "5-minute load average", semconv=True),
    _m("system.cpu.load_average.15m", "Load average (15 min)", "system", "gauge", "{thread}", "", 1.0, "avg",
       "15-minute load average", semconv=True),
    _m("system.memory.utilization", "Memory", "system", "gauge", "1", "%", 100.0, "avg",
       "Memory in use / total", ["state"], threshold="memory_percent", semconv=True),
    _m("system.memory.usage", "Memory used", "system", "gauge", "By", "MB", MB, "avg",
       "Memory in use (state=used)", ["state"], semconv=True),
    _m("system.memory.limit", "Memory total", "system", "gauge", "By", "MB", MB, "avg",
       "Total physical memory", semconv=True),
    _m("system.disk.io", "Disk I/O", "system", "gauge", "By/s", "MB/s", MB, "avg",
       "Disk bytes per second (direction=read|write)", ["direction"], semconv=True),
    _m("system.network.io", "Network I/O", "system", "gauge", "By/s", "MB/s", MB, "avg",
       "Network bytes per second, loopback excluded (direction=receive|transmit)", ["direction"],
       semconv=True),
    _m("system.network.connections", "Connections", "system", "gauge", "{connection}", "", 1.0, "avg",
       "Established TCP connections", ["protocol", "state"], semconv=True),
    _m("system.process.count", "Processes", "system", "gauge", "{process}", "", 1.0, "avg",
       "Number of processes", semconv=True),
    _m("system.filesystem.utilization", "Disk used", "system", "gauge", "1", "%", 100.0, "avg",
       "Used share of the filesystem", ["mountpoint"], semconv=True),
    # -- application (OpenTelemetry SDKs, or pushed through /v1/samples)
    _m("http.server.request.duration", "API response time", "application", "histogram", "s", "ms", 1000.0,
       "p95", "Server request duration; request rate and error rate derive from it",
       ["http.route", "http.request.method", "http.response.status_code"], threshold="api_p95_ms",
       semconv=True),
    _m("http.server.request.count", "Requests (from spans)", "application", "gauge", "{request}", "", 1.0,
       "sum", "SERVER spans per export, derived from OTLP traces (sum over a window = requests)",
       ["http.route", "service"]),
    _m("http.server.error.count", "Errors (from spans)", "application", "gauge", "{request}", "", 1.0,
       "sum", "SERVER spans with status ERROR or HTTP >= 500 per export, derived from OTLP traces",
       ["http.route", "service"]),
    _m("http.server.active_requests", "Active requests", "application", "gauge", "{request}", "", 1.0, "avg",
       "Requests in flight", ["http.route"], semconv=True),
    _m("app.users.concurrent", "Concurrent users", "application", "gauge", "{user}", "", 1.0, "avg",
       "Users with an active session"),
    _m("app.session.duration", "Session duration", "application", "histogram", "s", "s", 1.0, "avg",
       "Length of finished sessions (a histogram, or plain values in seconds)"),
    # -- database
    _m("db.client.operation.duration", "Query time", "database", "histogram", "s", "ms", 1000.0, "avg",
       "Database operation duration; slow queries (> 1 s) derive from it", ["db.system", "db.operation.name"],
       threshold="db_query_ms", semconv=True),
    _m("db.client.connection.count", "DB connections", "database", "gauge", "{connection}", "", 1.0, "avg",
       "Pool connections by state (state=used|idle)", ["db.client.connection.state", "state"], semconv=True),
    _m("db.client.connection.max", "DB pool size", "database", "gauge", "{connection}", "", 1.0, "avg",
       "Maximum connections the pool allows", semconv=True),
    _m("db.cache.hit_ratio", "Cache hit rate", "database", "gauge", "1", "%", 100.0, "avg",
       "Share of reads served from cache (0..1)"),
    _m("db.transaction.count", "Transactions", "database", "counter", "{transaction}", "/s", 1.0, "rate",
       "Committed transactions (cumulative counter)"),
    _m("db.lock.wait.duration", "Lock wait", "database", "histogram", "s", "ms", 1000.0, "avg",
       "Time spent waiting for locks (a histogram, or plain values in seconds)"),
    # -- business (pushed by the app as plain gauges and cumulative counters)
    _m("business.orders.active", "Active orders", "business", "gauge", "{order}", "", 1.0, "last",
       "Orders currently open"),
    _m("business.checkout.conversion", "Checkout conversion", "business", "gauge", "1", "%", 100.0, "avg",
       "Checkouts completed / started (0..1)"),
    _m("business.cart.abandonment", "Cart abandonment", "business", "gauge", "1", "%", 100.0, "avg",
       "Carts abandoned / created (0..1)"),
    _m("business.product.views", "Product views", "business", "counter", "{view}", "/min", 60.0, "rate",
       "Product page views (cumulative counter)"),
    _m("business.search.queries", "Search queries", "business", "counter", "{query}", "/min", 60.0, "rate",
       "Searches run (cumulative counter)"),
    _m("business.revenue", "Revenue", "business", "counter", "{currency}", "/h", 3600.0, "rate",
       "Revenue in the shop's currency (cumulative counter)"),
)
# fmt: on

CATALOG: Mapping[str, MetricInfo] = {m.name: m for m in _ALL}
SECTIONS: tuple[Section, ...] = ("system", "application", "database", "business", "custom")


def info(name: str) -> MetricInfo:
    """The catalogue entry, or a neutral one for a metric the catalogue does not know."""
    known = CATALOG.get(name)
    if known is not None:
        return known
    return MetricInfo(name, name, "custom", "gauge", "", "", 1.0, "avg", "")


# A ratio (unit "1", 0..1) above this is a percentage sent by mistake (85 for 85 %), not rounding
# noise: refused at ingest instead of making a fleet average read 1,259 %.
RATIO_MAX = 1.5


def unit_max(name: str) -> float:
    """The largest value a sample of `name` may carry (`unit_range_error` refuses any above it):
    `RATIO_MAX` for a catalogue ratio, else infinity."""
    known = CATALOG.get(name)
    return RATIO_MAX if known is not None and known.unit == "1" else math.inf


def unit_range_error(name: str, value: float) -> str | None:
    """Why `value` cannot be a sample of catalogue metric `name` in its stored unit, or None."""
    if value > unit_max(name):
        return (
            f'{name} is a ratio (unit "1", 0..1, at most {RATIO_MAX:g}); got {value:g} — '
            f"send {value / 100:g} for {value:g} %"
        )
    return None


def catalog_entries(seen: Mapping[str, Sequence[str]] | None = None) -> list[dict[str, Any]]:
    """The `/api/metrics/catalog` body: every catalogue metric plus every metric the store has seen
    (`Store.list_metrics()`), each with `seen` and the label keys seen merged in; sorted by section
    (catalogue order) then name."""
    seen = seen or {}
    out: list[dict[str, Any]] = []
    for name in [*CATALOG, *sorted(n for n in seen if n not in CATALOG)]:
        entry = info(name).to_json()
        entry["labels"] = sorted(set(entry["labels"]) | set(seen.get(name, ())))
        entry["seen"] = name in seen
        entry["known"] = name in CATALOG
        out.append(entry)
    out.sort(key=lambda e: SECTIONS.index(e["section"]))  # stable: keeps catalogue order inside a section
    return out
