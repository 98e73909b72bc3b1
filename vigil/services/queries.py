"""Read-side use cases behind `/api/metrics*`, `/api/hosts` and `/api/errors`.

Parses user-facing query parameters (times, filters) into domain calls; aggregation itself lives in
`vigil.domain.series` so the series API, export and the alert backtest share it.
"""

from __future__ import annotations

from typing import Any

from vigil.config import Config
from vigil.domain.errors import Invalid
from vigil.domain.timeparse import iso, parse_duration, parse_instant
from vigil.domain.models import Point
from vigil.ports import Store

HOST_DOWN_INTERVALS = 3  # a host is down after missing this many agent intervals (plus one flush)


def parse_labels(raw: str | None) -> dict[str, str] | None:
    """`k=v,k2=v2` → dict. Raises: Invalid naming `labels`."""
    if not raw:
        return None
    out: dict[str, str] = {}
    for pair in raw.split(","):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise Invalid(f"labels must look like key=value,key2=value2; got {pair!r}", field="labels")
        out[key.strip()] = value.strip()
    return out


def series(
    store: Store,
    config: Config,
    now: float,
    *,
    metric: str,
    host: str | None,
    labels: str | None,
    start: str,
    end: str,
    agg: str,
    step: str | None,
    group_by: str | None,
) -> dict[str, Any]:
    from vigil.domain import series as series_mod

    t0 = parse_instant(start, now=now, field="from")
    t1 = parse_instant(end, now=now, field="to")
    if t0 >= t1:
        raise Invalid("from must be before to", field="from")
    requested = parse_duration(step, field="step") if step else None
    if requested is not None and requested <= 0:
        raise Invalid("step must be positive", field="step")
    chosen = series_mod.choose_step(t0, t1, requested)
    hosts = [h.strip() for h in host.split(",") if h.strip()] if host else None
    groups = _group_by(group_by)
    points = store.query_points(metric, t0, t1, hosts=hosts, labels=parse_labels(labels), now=now)
    result = series_mod.build_series(points, start=t0, end=t1, step=chosen, agg=agg, group_by=groups)
    out: dict[str, Any] = result.to_json()
    out["metric"] = metric
    out.setdefault("resolution", "raw")
    return out


def _group_by(raw: str | None) -> list[str] | None:
    if raw is None or raw == "":
        return None
    if raw == "none":
        return []
    return [part.strip() for part in raw.split(",") if part.strip()]


def snapshot(store: Store, config: Config, now: float) -> dict[str, Any]:
    """The `/api/metrics` body: KPIs over the last window with their trend against the window before."""
    from dataclasses import asdict

    from vigil.domain.catalog import CATALOG
    from vigil.domain.snapshot import build_snapshot

    window = max(60.0, 3 * config.interval_seconds)
    latest: list[Point] = []
    previous: list[Point] = []
    for name in CATALOG:
        for p in store.query_points(name, now - 2 * window, now, now=now):
            (latest if p.ts > now - window else previous).append(p)
    return build_snapshot(latest, previous, now, window=window, thresholds=asdict(config.thresholds))


def catalog(store: Store) -> dict[str, Any]:
    from vigil.domain.catalog import catalog_entries

    return {"metrics": catalog_entries(store.list_metrics())}


def hosts(store: Store, config: Config, now: float) -> dict[str, Any]:
    limit = HOST_DOWN_INTERVALS * config.interval_seconds + 60.0
    return {
        "hosts": [
            {
                "host": h.host,
                "first_seen": iso(h.first_seen),
                "last_seen": iso(h.last_seen),
                "up": now - h.last_seen <= limit,
                "series": h.series,
            }
            for h in store.list_hosts()
        ]
    }


def error_groups(store: Store, now: float, *, since: str, limit: int) -> dict[str, Any]:
    t0 = parse_instant(since, now=now, field="since")
    return {
        "errors": [
            {
                "fingerprint": g.fingerprint,
                "type": g.type,
                "message": g.message,
                "service": g.service,
                "count": g.count,
                "first_seen": iso(g.first_seen),
                "last_seen": iso(g.last_seen),
                "sample_stack": g.sample_stack,
                "host": g.last_host,
                "trace_id": g.last_trace_id,
            }
            for g in store.list_error_groups(t0, limit)
        ]
    }
