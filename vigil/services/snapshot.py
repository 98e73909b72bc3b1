"""The `/api/metrics` snapshot: fleet KPIs with their trends (`vigil.domain.snapshot`) and, beside the
host-level ones, every host's current value worst first (the overview's worst hosts and host grid)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vigil.config import Config
from vigil.ports import Store
from vigil.services.queries import snapshot_window

if TYPE_CHECKING:
    from vigil.domain.models import Point


HOST_DOWN_INTERVALS = 3  # latest values older than this many intervals (plus one flush) are not current


def host_down_limit(config: Config) -> float:
    """Seconds without a sample after which a host's latest values no longer count as current (the
    overview's worst hosts); `/api/hosts` status itself follows each host's own cadence."""
    return HOST_DOWN_INTERVALS * config.interval_seconds + 60.0


LIVE_SNAPSHOT_HOSTS = 20  # larger fleets get the fleet job's snapshot (one read, minutes old)
SNAPSHOT_MAX_AGE = 900.0  # an older job snapshot means the job stopped: read live instead


def snapshot(store: Store, config: Config, now: float) -> dict[str, Any]:
    """The `/api/metrics` body: KPIs over the last window with their trend against the window before,
    plus `by_host` (the application KPIs' worst hosts from `domain.request_ranks`, over the card's own
    window and points). Read live (one read per host) for up to LIVE_SNAPSHOT_HOSTS hosts; past that, the
    one the fleet job saved from its last run (`services.fleet`), as of the newest minute it built."""
    from dataclasses import asdict

    from vigil.domain.catalog import CATALOG
    from vigil.domain.request_ranks import rank_request_kpis
    from vigil.domain.snapshot import build_snapshot, with_thresholds
    from vigil.services.fleet import SNAPSHOT_ID, STATE_KIND

    saved = store.get_doc(STATE_KIND, SNAPSHOT_ID)
    if saved and saved["hosts"] > LIVE_SNAPSHOT_HOSTS and now - float(saved["ran_at"]) <= SNAPSHOT_MAX_AGE:
        body = with_thresholds(saved["snapshot"], asdict(config.thresholds))
    else:
        window = snapshot_window(config)
        latest: list[Point] = []
        previous: list[Point] = []
        for p in store.query_many(list(CATALOG), now - 2 * window, now, now=now):  # one read per host
            (latest if p.ts > now - window else previous).append(p)
        body = build_snapshot(latest, previous, now, window=window, thresholds=asdict(config.thresholds))
        body["by_host"] = rank_request_kpis(latest, window)  # the fleet job's snapshot carries its own
    body["by_host"] = {**by_host(store, config, now), **body.get("by_host", {})}
    return body


# KPIs shown per host beside the fleet value (the overview's worst hosts and host grid): key → the
# metric and the label filter picking its series (as the agent writes them).
HOST_KPIS: dict[str, tuple[str, dict[str, str] | None]] = {
    "cpu": ("system.cpu.utilization", None),
    "memory": ("system.memory.utilization", {"state": "used"}),
    "disk": ("system.filesystem.utilization", None),
    "load": ("system.cpu.load_average.1m", None),
}


def by_host(store: Store, config: Config, now: float) -> dict[str, Any]:
    """`{"cpu": {"unit": "%", "hosts": [{"host", "value"}, ...]}, ...}`, worst (highest) first, in
    display units, for hosts that are up (seen within the host-down limit)."""
    from vigil.domain.catalog import info

    since = now - host_down_limit(config)
    out: dict[str, Any] = {}
    for key, (metric, labels) in HOST_KPIS.items():
        meta = info(metric)
        values = store.latest_by_host(metric, since, labels)
        ranked = sorted(values.items(), key=lambda hv: (-hv[1], hv[0]))
        out[key] = {
            "unit": meta.display_unit,
            "hosts": [{"host": h, "value": round(v * meta.scale, 4)} for h, v in ranked],
        }
    return out
