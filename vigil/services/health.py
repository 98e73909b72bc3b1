"""Health of a Vigil deployment, for uptime checkers: the store answers and can write (a full disk is
`store: degraded`), and samples are fresh.

The report names checks, never hosts, keys or paths: `/health` is public. Anyone can call it, so it
costs a constant number of store reads whatever the fleet size (a ping and `Store.last_ingest`, one
item on DynamoDB). The newest-sample time is reused for `CACHE_SECONDS` per store; the store check runs
every time (a full disk or a lost table shows at once).
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from vigil.config import Config
from vigil.domain.errors import StorageFull, Unavailable
from vigil.domain.timeparse import iso
from vigil.ports import FRESHNESS_LAG_SECONDS, Store

# A deployment with no host yet is healthy (nothing is late); once hosts report, at least one must have
# pushed within this many agent intervals.
FRESH_INTERVALS = 3
CACHE_SECONDS = 5.0  # an uptime checker polling every second costs one store round trip per 5 s

_cache: weakref.WeakKeyDictionary[Any, tuple[float, float | None]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def _last_ingest(store: Store, now: float) -> float | None:
    """`store.last_ingest()`, reused for CACHE_SECONDS."""
    with _cache_lock:
        hit = _cache.get(store)
    if hit is not None and 0 <= now - hit[0] < CACHE_SECONDS:
        return hit[1]
    newest = store.last_ingest()
    with _cache_lock:
        _cache[store] = (now, newest)
    return newest


def check_health(store: Store, config: Config, now: float) -> dict[str, Any]:
    checks: dict[str, str] = {}
    try:
        store.ping()
        newest = _last_ingest(store, now)
        checks["store"] = "ok"
    except StorageFull:  # reads still work, writes do not: degraded, and ingest answers 503
        checks["store"] = "degraded: no space left to write"
        return {"status": "fail", "checks": checks, "time": iso(now)}
    except Unavailable:
        checks["store"] = "unavailable"
        return {"status": "fail", "checks": checks, "time": iso(now)}
    # + one agent flush of slack, + how far the store's freshness record may lag the newest batch
    limit = FRESH_INTERVALS * max(config.interval_seconds, 10.0) + 60.0 + FRESHNESS_LAG_SECONDS
    if newest is None:
        checks["samples"] = "none yet"
    elif now - newest <= limit:
        checks["samples"] = "fresh"
    else:
        checks["samples"] = f"stale: newest sample is {int(now - newest)} s old"
    ok = not checks["samples"].startswith("stale")
    return {"status": "ok" if ok else "fail", "checks": checks, "time": iso(now)}
