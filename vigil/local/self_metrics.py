"""Local mode's self-instrumentation: the local server's own API requests become Vigil samples of
service `vigil`, so the dashboard's API cards (response time, request rate, error rate) show real data
on a fresh start.

The WSGI app calls `SelfMetrics.observe(method, path, status, seconds)` after every API request (not
for static files); the scheduler calls `flush(now)` every tick, which writes, per
(`http.request.method`, `http.route`, `http.response.status_code`), one delta histogram of
`http.server.request.duration` (seconds, `DEFAULT_LATENCY_BOUNDS`) — the status label is what the
snapshot's error rate reads — and, per `http.route`, `http.server.request.count` and
`http.server.error.count` labelled like the ones derived from OTLP server spans. Routes are templates
(`vigil.api.request_metrics.route_template`), so label values stay bounded. Samples go straight into
the store (no HTTP round trip, so flushing makes no request of its own) under this machine's host
name, through the same cardinality guard as pushed samples.

Must not import waitress or boto3.
"""

from __future__ import annotations

import functools
import logging
import re
import socket
import threading
from collections import defaultdict
from collections.abc import Callable

from vigil.api.request_metrics import UNMATCHED_ROUTE, http_method, route_template
from vigil.domain import histograms
from vigil.domain.errors import LimitExceeded
from vigil.domain.limits import HOST_RE
from vigil.domain.records import Point
from vigil.local.gateway import Gateway
from vigil.services.ingest import check_cardinality
from vigil.wiring import AppContext

log = logging.getLogger("vigil.local")
SERVICE = "vigil"
_HOST_BAD = re.compile(r"[^A-Za-z0-9_.:\-]")
# (method, route, status) -> observed durations in seconds since the last flush
Key = tuple[str, str, int]
ROUTE_CACHE_SIZE = 1024


def local_host_name(name: str | None = None) -> str:
    """This machine's host name in Vigil's host syntax (what the local agent reports too)."""
    raw = socket.gethostname() if name is None else name
    host = _HOST_BAD.sub("-", raw)[:128].lstrip("_.:-")
    return host if HOST_RE.match(host) else "localhost"


def gateway_route(gateway: Gateway) -> Callable[[str, str], str]:
    """`(method, path) -> route template` from the Powertools routes of the function serving `path`."""
    from vigil.api.route_table import match_function

    # the routes are fixed once the server runs: a path's template is found once (every API request
    # asks; a scan of every Powertools route's pattern each time), bounded against random paths
    @functools.lru_cache(maxsize=ROUTE_CACHE_SIZE)
    def template(method: str, path: str) -> str:
        binding = match_function(path)
        if binding is None:
            return UNMATCHED_ROUTE
        entry = getattr(gateway.handler_for(binding.function), "entry", None)
        if entry is None:  # a placeholder handler without our FunctionEntry
            return binding.path
        return route_template(entry.resolver(), method, path)

    return template


class SelfMetrics:
    """Thread-safe recorder; `observe` is called on request threads, `flush` on the scheduler's."""

    def __init__(self, ctx: AppContext, route_of: Callable[[str, str], str], host: str | None = None) -> None:
        self._ctx = ctx
        self._route_of = route_of
        self.host = host or local_host_name()
        self._lock = threading.Lock()
        self._pending: dict[Key, list[float]] = defaultdict(list)

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        try:
            route = self._route_of(method, path)
        except Exception:  # instrumentation must never fail a request
            log.exception("cannot resolve the route of %s %s for self-metrics", method, path)
            route = UNMATCHED_ROUTE
        with self._lock:
            self._pending[(http_method(method), route, status)].append(max(0.0, seconds))

    def points(self, now: float) -> list[Point]:
        """Take the observations since the last call as points stamped `now` (and forget them)."""
        with self._lock:
            pending, self._pending = self._pending, defaultdict(list)
        out: list[Point] = []
        per_route: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for (method, route, status), seconds in sorted(pending.items()):
            labels = (
                ("http.request.method", method),
                ("http.response.status_code", str(status)),
                ("http.route", route),
                ("service", SERVICE),
            )
            out.append(
                Point(
                    self.host,
                    "http.server.request.duration",
                    labels,
                    now,
                    None,
                    histograms.from_values(seconds),
                )
            )
            per_route[route][0] += len(seconds)
            per_route[route][1] += len(seconds) if status >= 500 else 0
        for route, (requests, errors) in sorted(per_route.items()):
            route_labels = (("http.route", route), ("service", SERVICE))
            out.append(Point(self.host, "http.server.request.count", route_labels, now, float(requests)))
            out.append(Point(self.host, "http.server.error.count", route_labels, now, float(errors)))
        return out

    def flush(self, now: float) -> int:
        """Store the pending observations (scheduler job); returns how many points were written."""
        points = self.points(now)
        if not points:
            return 0
        store = self._ctx.store
        try:
            check_cardinality(store, self.host, points, self._ctx.config)
        except LimitExceeded as exc:
            log.warning("self-metrics dropped: %s", exc.message)
            return 0
        store.put_samples(self.host, points, None, now)
        return len(points)
