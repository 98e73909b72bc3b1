"""Health of a Vigil deployment, for uptime checkers: the store answers and can write (a full disk is
`store: degraded`), and samples are fresh.

The report names checks, never hosts, keys or paths: `/health` is public.
"""

from __future__ import annotations

from typing import Any

from vigil.config import Config
from vigil.domain.errors import StorageFull, Unavailable
from vigil.domain.timeparse import iso
from vigil.ports import Store

# A deployment with no host yet is healthy (nothing is late); once hosts report, at least one must have
# pushed within this many agent intervals.
FRESH_INTERVALS = 3


def check_health(store: Store, config: Config, now: float) -> dict[str, Any]:
    checks: dict[str, str] = {}
    try:
        store.ping()
        checks["store"] = "ok"
    except StorageFull:  # reads still work, writes do not: degraded, and ingest answers 503
        checks["store"] = "degraded: no space left to write"
        return {"status": "fail", "checks": checks, "time": iso(now)}
    except Unavailable:
        checks["store"] = "unavailable"
        return {"status": "fail", "checks": checks, "time": iso(now)}
    hosts = store.list_hosts()
    newest = max((h.last_seen for h in hosts), default=None)
    limit = FRESH_INTERVALS * max(config.interval_seconds, 10.0) + 60.0  # + one agent flush of slack
    if newest is None:
        checks["samples"] = "none yet"
    elif now - newest <= limit:
        checks["samples"] = "fresh"
    else:
        checks["samples"] = f"stale: newest sample is {int(now - newest)} s old"
    ok = checks["samples"] != "" and not checks["samples"].startswith("stale")
    return {"status": "ok" if ok else "fail", "checks": checks, "time": iso(now)}
