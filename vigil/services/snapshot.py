"""The `/api/metrics` snapshot: fleet KPIs with their trends (`vigil.domain.snapshot`) and, beside the
host-level ones, the hosts' current values worst first with their count and threshold levels (the
overview's worst hosts and host grid, `vigil.domain.host_ranking`): at most `BY_HOST_LIMIT` hosts per
KPI, or every host with `hosts=all` (the Hosts page). For fleets the fleet job keeps a snapshot of,
the bounded `by_host` comes from that snapshot too, so the overview reads one row whatever the fleet's
size."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from vigil.config import Config
from vigil.ports import Store
from vigil.services.queries import snapshot_window

if TYPE_CHECKING:
    from vigil.domain.records import Point


HOST_DOWN_INTERVALS = 3  # latest values older than this many intervals (plus one flush) are not current


def host_down_limit(config: Config) -> float:
    """Seconds without a sample after which a host's latest values no longer count as current (the
    overview's worst hosts); `/api/hosts` status itself follows each host's own cadence."""
    return HOST_DOWN_INTERVALS * config.interval_seconds + 60.0


BY_HOST_LIMIT = 100  # hosts listed per KPI unless every host is asked for
LIVE_SNAPSHOT_HOSTS = 20  # larger fleets get the fleet job's snapshot (one read, minutes old)
SNAPSHOT_MAX_AGE = 900.0  # an older job snapshot means the job stopped: read live instead


def snapshot(store: Store, config: Config, now: float, *, all_hosts: bool = False) -> dict[str, Any]:
    """The `/api/metrics` body: KPIs over the last window with their trend against the window before,
    plus `by_host`. Read live (one read per host) for up to LIVE_SNAPSHOT_HOSTS hosts; past that, the
    one the fleet job saved from its last run (`services.fleet`), as of the newest minute it built, with
    its bounded `by_host` (`all_hosts`: every host's current value, read live). The application KPIs'
    worst hosts (`domain.request_ranks`) come from the card's own window and points: no read of their own."""
    from vigil.domain.catalog import CATALOG
    from vigil.domain.request_ranks import rank_request_kpis
    from vigil.domain.snapshot import build_snapshot, with_thresholds
    from vigil.services.fleet import SNAPSHOT_ID, STATE_KIND

    saved = store.get_doc(STATE_KIND, SNAPSHOT_ID)
    if saved and saved["hosts"] > LIVE_SNAPSHOT_HOSTS and now - float(saved["ran_at"]) <= SNAPSHOT_MAX_AGE:
        body = with_thresholds(saved["snapshot"], asdict(config.thresholds))
        if not all_hosts and "by_host" in saved:
            body["by_host"] = {**saved["by_host"], **body.get("by_host", {})}
            return body
    else:
        window = snapshot_window(config)
        latest: list[Point] = []
        previous: list[Point] = []
        for p in store.query_many(list(CATALOG), now - 2 * window, now, now=now):  # one read per host
            (latest if p.ts > now - window else previous).append(p)
        # as of its newest sample, as the fleet job's is as of its newest minute: an unchanged
        # snapshot is the same body, so the dashboard's 10 s revalidation is a 304, not a new answer
        as_of = max((p.ts for p in latest or previous), default=now)
        body = build_snapshot(latest, previous, as_of, window=window, thresholds=asdict(config.thresholds))
        body["by_host"] = rank_request_kpis(latest, window)  # the fleet job's snapshot carries its own
    body["by_host"] = {
        **by_host(store, config, now, limit=None if all_hosts else BY_HOST_LIMIT),
        **body.get("by_host", {}),
    }
    return body


# KPIs shown per host beside the fleet value (the overview's worst hosts and host grid): key → the
# metric, the label filter picking its series (as the agent writes them) and its threshold, if any
# (`config.Thresholds` field, display units).
HOST_KPIS: dict[str, tuple[str, dict[str, str] | None, str | None]] = {
    "cpu": ("system.cpu.utilization", None, "cpu_percent"),
    "memory": ("system.memory.utilization", {"state": "used"}, "memory_percent"),
    "disk": ("system.filesystem.utilization", None, None),
    "load": ("system.cpu.load_average.1m", None, None),
}


def by_host(store: Store, config: Config, now: float, *, limit: int | None) -> dict[str, Any]:
    """`{"cpu": {"unit": "%", "hosts": [{"host", "value"}, ...], "count", "levels"}, ...}`
    (`host_ranking.ranked_hosts`) for hosts that are up (seen within the host-down limit)."""
    since = now - host_down_limit(config)
    values = {
        key: store.latest_by_host(metric, since, labels) for key, (metric, labels, _) in HOST_KPIS.items()
    }
    return rank(values, asdict(config.thresholds), limit)


def by_host_of_points(
    points: Iterable[Point], thresholds: Mapping[str, Any], limit: int | None
) -> dict[str, Any]:
    """`by_host` from the points of a window (the fleet job's snapshot): per KPI, the mean of the
    newest value of each of a host's series, as `Store.latest_by_host` gives it."""
    newest: dict[tuple[str, str, str, tuple[tuple[str, str], ...]], tuple[float, float]] = {}
    kpis = {metric: (key, set((labels or {}).items())) for key, (metric, labels, _) in HOST_KPIS.items()}
    for p in points:
        wanted = kpis.get(p.metric)
        if wanted is None or p.value is None or not wanted[1] <= set(p.labels):
            continue
        k = (wanted[0], p.host, p.metric, p.labels)
        if k not in newest or p.ts > newest[k][0]:
            newest[k] = (p.ts, p.value)
    per_host: dict[str, dict[str, list[float]]] = {key: {} for key in HOST_KPIS}
    for (key, host, _, _), (_, v) in sorted(newest.items()):
        per_host[key].setdefault(host, []).append(v)
    values = {key: {h: sum(vs) / len(vs) for h, vs in hosts.items()} for key, hosts in per_host.items()}
    return rank(values, thresholds, limit)


def rank(
    values: Mapping[str, Mapping[str, float]], thresholds: Mapping[str, Any], limit: int | None
) -> dict[str, Any]:
    from vigil.domain.catalog import info
    from vigil.domain.host_ranking import ranked_hosts

    out: dict[str, Any] = {}
    for key, (metric, _, threshold) in HOST_KPIS.items():
        meta = info(metric)
        out[key] = ranked_hosts(
            values[key],
            scale=meta.scale,
            unit=meta.display_unit,
            threshold=None if threshold is None else float(thresholds[threshold]),
            limit=limit,
        )
    return out
