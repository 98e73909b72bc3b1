"""Ingest on more than one core: `IngestPool` runs ingest requests in up to `size` ingest worker
processes (`worker.Worker`), one request each at a time, so decoding, checking and packing one
request overlaps another's SQLite transaction (SQLite's write lock still orders the transactions).

- Only routes whose handling keeps no state between requests go to any worker: `POST /v1/samples`
  and Prometheus remote-write. Everything else (OTLP metrics keep cumulative-to-delta state per
  process, as one Lambda environment does) runs in the first worker only.
- The pool starts with one worker and starts another only when a request finds every worker busy, so
  a server whose ingest never overlaps keeps one worker's memory (a worker is ~45 MB).

How many at most: `Config.ingest_workers` (`VIGIL_INGEST_WORKERS`, 2: the cores of the machine kind
this is measured on; their write transactions still take turns).

Standard library only; must not import waitress.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any

from vigil.domain.errors import Unavailable
from vigil.local.worker import Worker

# paths whose handling keeps no state in the worker between requests (any worker may take them)
STATELESS_PATHS = frozenset({"/v1/samples", "/api/v1/write"})


class IngestPool:
    """`invoke(function, event)` as `Worker.invoke`, on an idle worker of the pool (the first one for
    a path outside `STATELESS_PATHS`); `new_worker()` makes a worker (not started)."""

    def __init__(self, new_worker: Callable[[], Worker], size: int) -> None:
        self._new_worker = new_worker
        self.size = max(1, size)
        self.workers: list[Worker] = []
        self._idle: queue.SimpleQueue[Worker] = queue.SimpleQueue()
        self._lock = threading.Lock()

    def start(self) -> IngestPool:
        """Starts the first worker (`wait_ready` waits for it)."""
        self._idle.put(self._add())
        return self

    def _add(self) -> Worker:
        worker = self._new_worker().start()
        self.workers.append(worker)
        return worker

    def wait_ready(self) -> list[int]:
        """The pid of every worker started so far, once each is ready.

        Raises:
            Unavailable: a worker did not come up (it is replaced; the others were waited for)."""
        pids, failed = [], None
        for worker in list(self.workers):
            try:
                pids.append(worker.wait_ready())
            except Unavailable as exc:
                failed = failed or exc
        if failed is not None:
            raise failed
        return pids

    @property
    def restarts(self) -> int:
        return sum(w.restarts for w in self.workers)

    def invoke(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        if event.get("rawPath") not in STATELESS_PATHS:
            return self.workers[0].invoke(function, event)
        try:
            worker = self._idle.get_nowait()
        except queue.Empty:
            self._grow()
            worker = self._idle.get()  # the gateway's admission slots (one per worker) bound the waiters
        try:
            return worker.invoke(function, event)
        finally:
            self._idle.put(worker)

    def _grow(self) -> None:
        """Every worker is busy: start another if the pool may, and make it idle once it is ready (the
        request waits for whichever worker is idle first, not for the new one's start)."""
        with self._lock:
            if len(self.workers) >= self.size:
                return
            worker = self._add()

        def when_ready() -> None:
            # a worker that did not come up is replaced by `Worker` (its first request waits for the
            # new one); a pool stopped meanwhile has closed it: either way it may join the idle ones
            with contextlib.suppress(Unavailable):
                worker.wait_ready()
            self._idle.put(worker)

        threading.Thread(target=when_ready, name="vigil-ingest-start", daemon=True).start()

    def stop(self, timeout: float) -> None:
        """`Worker.stop` of every worker at once: each may finish its running request within `timeout`."""
        stopping = [threading.Thread(target=w.stop, args=(timeout,)) for w in list(self.workers)]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()
