"""The read side of `/api/errors`: a page of error groups, each with its 24 h of hourly occurrences.

The groups come from one store listing (on DynamoDB one Query of the `ERRGROUP` partition, whose items
carry their hourly counters), so a page costs the same number of requests however many rows it has.
Must not import `vigil.api` or an adapter.
"""

from __future__ import annotations

from typing import Any

from vigil.domain.occurrences import HOUR_SECONDS, window_24h
from vigil.domain.paging import paginate
from vigil.domain.records import ErrorGroup
from vigil.domain.timeparse import iso, parse_instant
from vigil.ports import Store

MAX_ERROR_GROUPS = 10_000  # error groups read per page request (fingerprints, bounded by the code)


def error_groups(
    store: Store, now: float, *, since: str, limit: int, cursor: str | None = None
) -> dict[str, Any]:
    """A page of the error groups seen since `since`, newest first (ties by fingerprint)."""
    t0 = parse_instant(since, now=now, field="since")
    groups = sorted(
        store.list_error_groups(t0, MAX_ERROR_GROUPS),
        key=lambda g: (g.last_seen, g.fingerprint),
        reverse=True,
    )
    page, next_cursor = paginate(
        groups, lambda g: [g.last_seen, g.fingerprint], limit=limit, cursor=cursor, descending=True
    )
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
                "occurrences_24h": _occurrences(g, now),
            }
            for g in page
        ],
        "next_cursor": next_cursor,
    }


def _occurrences(group: ErrorGroup, now: float) -> dict[str, Any]:
    """The group's 24 hourly counts ending with the current hour (what the errors list draws)."""
    start, counts = window_24h(group.hourly, now)
    return {"start": iso(start), "step_s": HOUR_SECONDS, "counts": counts}
