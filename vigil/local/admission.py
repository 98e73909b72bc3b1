"""Admission control for the local server's ingest path: at most `slots` ingest invocations run at
once and at most `max_waiting` wait for one (up to `wait` seconds each); any other ingest request is
answered 503 with `Retry-After` at once instead of queueing without bound (clients then back off; the
agent honours `Retry-After`).

Why a cap at all: when ingest handlers ran in the server process, every extra one running took CPU
from the dashboard's reads (measured: two running ingest handlers put read p95 at 5-10x idle, one at
under 2x, see docs/architecture.md); in `vigil serve` they now run in the ingest worker processes
(`ingest_pool.py`), one request per worker and one slot per worker, and the cap keeps the queue in
front of them bounded. A refused request
has stored nothing (the slot is taken before the handler runs), so a client never times out on, or is
refused, data that was kept.

Standard library and the domain's errors only (the gateway turns `Unavailable` into the API's 503).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from vigil.domain.errors import Unavailable

RETRY_AFTER_SECONDS = 1


class Admission:
    """`with admission.slot():` runs the body or raises `Unavailable` (→ 503 + Retry-After)."""

    def __init__(self, slots: int = 1, max_waiting: int = 16, wait: float = 10.0) -> None:
        self.slots = slots
        self.max_waiting = max_waiting
        self.wait = wait
        self._free = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self._waiting = 0
        self.refused = 0  # since start; the server's periodic summary reports it

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Raises:
        Unavailable: `max_waiting` requests already wait, or no slot freed up within `wait` seconds
        (the write path is saturated)."""
        got = self._free.acquire(blocking=False)
        if not got:
            with self._lock:
                queued = self._waiting < self.max_waiting
                self._waiting += queued
            got = queued and self._free.acquire(timeout=self.wait)
            with self._lock:
                self._waiting -= queued
                self.refused += not got
        if not got:
            raise Unavailable(
                f"the server is saturated: ingest requests are queued ({self.max_waiting} at most);"
                f" retry after {RETRY_AFTER_SECONDS} s",
                retry_after=RETRY_AFTER_SECONDS,
            )
        try:
            yield
        finally:
            self._free.release()
