"""The worst hosts beside the overview's application KPIs (API response p95, error rate): each host's
own value of the KPI, computed exactly as the fleet card's value (`snapshot.kpi_value`) but over that
host's points of the same window, ranked worst (highest) first and bounded to the top N.

The caller passes the points the fleet card was built from (the snapshot's latest window: read once
per host live, or by the fleet job for large fleets), so a ranking costs no read of its own. A host
without requests in the window has no p95 and no error rate: it is not ranked (never a best "0 %").
A percentile or a ratio is not biased by a window the host's last batch only partly covers, unlike a
count, so the window's partial end needs no correction here.

OTLP apps without a `host.name` resource attribute are stored under their `service.name` as the host
(`adapters.otlp.common.origin`); when every ranked entry is such a service, the ranking says it ranks
services, not hosts.

Standard library only (plus `vigil.domain`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from vigil.domain.records import Point
from vigil.domain.snapshot import SPAN_ERROR_COUNTS, by_metric, display_of, kpi_of, kpi_value

TOP_HOSTS = 5  # entries kept per KPI (the first is the max): the overview does not grow with the fleet
RANKED_KPIS = (("application", "response_time_p95"), ("application", "error_rate"))


def _named_after_service(host: str, points: Iterable[Point]) -> bool:
    """Whether `host` is the `service` label of its points: an OTLP resource without `host.name`."""
    services = {dict(p.labels).get("service") for p in points}
    return services == {host}


def rank_request_kpis(latest: Iterable[Point], window: float, top: int = TOP_HOSTS) -> dict[str, Any]:
    """`{"response_time_p95": {"unit", "ranked", "count", "hosts": [{"host", "value"}, ...]}, ...}`:
    for each KPI the `top` hosts with the highest value (display units, 4 decimals), ties by name;
    `count` hosts had a value; `ranked` is "hosts", "services" (every entry is an OTLP service stored
    under its name) or "hosts and services"."""
    wanted = {kpi_of(s, k).metric for s, k in RANKED_KPIS} | set(SPAN_ERROR_COUNTS.values())
    per_host: dict[str, list[Point]] = defaultdict(list)
    for p in latest:
        if p.metric in wanted:
            per_host[p.host].append(p)
    grouped = {host: by_metric(points) for host, points in per_host.items()}
    out: dict[str, Any] = {}
    for section, key in RANKED_KPIS:
        kpi = kpi_of(section, key)
        unit, scale = display_of(kpi)
        values: list[tuple[str, float]] = []
        services: set[str] = set()
        for host, points in grouped.items():
            raw, used = kpi_value(kpi, points, window)
            if raw is None or not math.isfinite(raw):
                continue
            values.append((host, raw * scale))
            if _named_after_service(host, used):
                services.add(host)
        values.sort(key=lambda hv: (-hv[1], hv[0]))
        kinds = sorted({"services" if h in services else "hosts" for h, _ in values})
        out[key] = {
            "unit": unit,
            "ranked": " and ".join(kinds) or "hosts",
            "count": len(values),
            "hosts": [{"host": h, "value": round(v, 4)} for h, v in values[:top]],
        }
    return out
