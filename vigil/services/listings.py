"""The listing answers of the metrics function: the metric catalog (`/api/metrics/catalog`) and a page
of the host list with each host's status by its own reporting cadence (`/api/hosts`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from vigil.config import Config
from vigil.domain.cadence import host_status
from vigil.domain.paging import DEFAULT_LIMIT, encode_cursor, name_after
from vigil.domain.timeparse import iso
from vigil.ports import Store


def catalog(store: Store) -> dict[str, Any]:
    from vigil.domain.catalog import catalog_entries

    return {"metrics": catalog_entries(store.list_metrics())}


def hosts(
    store: Store, config: Config, now: float, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> dict[str, Any]:
    """A page of `/api/hosts` by name; the store reads only that page (plus one host, to know if more
    follow). `status` up/down by each host's own reporting cadence (`interval_s`, null until learned),
    `stale` for a host that never established one; `up` is `status == "up"`. The synthetic checks'
    samples (host `rules.CHECKS_HOST`) are not a host: they are listed on the Checks page, and a host
    list showing them would call the runner "down" once the last check is deleted."""
    from vigil.domain.rule_records import CHECKS_HOST

    missed = config.thresholds.host_missed_intervals
    found = store.list_hosts(after=name_after(cursor), limit=limit + 1)
    page = found[:limit]
    out = []
    for h in page:
        if h.host == CHECKS_HOST:
            continue
        cadence = h.cadence if h.cadence.last_push is not None else replace(h.cadence, last_push=h.last_seen)
        status = host_status(cadence, now, missed=missed, evaluation_period=config.evaluation_period_seconds)
        out.append(
            {
                "host": h.host,
                "first_seen": iso(h.first_seen),
                "last_seen": iso(h.last_seen),
                "up": status == "up",
                "status": status,
                "interval_s": cadence.interval,
                "series": h.series,
            }
        )
    return {"hosts": out, "next_cursor": encode_cursor([page[-1].host]) if len(found) > limit else None}
