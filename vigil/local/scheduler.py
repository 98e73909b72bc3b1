"""Runs periodic jobs locally (what EventBridge schedules do in AWS): retention purge, rollups, alert
evaluation. A failing job is logged and retried on the next tick; it never stops the others.
Standard library only."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from vigil.ports import Clock

log = logging.getLogger("vigil.scheduler")
Job = Callable[[float], object]


class Scheduler:
    def __init__(self, clock: Clock, interval: float) -> None:
        self._clock = clock
        self._interval = interval
        self._jobs: list[tuple[str, Job, float]] = []
        self._last: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ticks = 0

    def add(self, name: str, job: Job, every: float | None = None) -> None:
        """Run `job(now)` every `every` seconds (default: each tick)."""
        self._jobs.append((name, job, every or self._interval))

    def job(self, name: str) -> Job:
        """The job added as `name`, as the scheduler runs it (wrappers included)."""
        return next(job for added, job, _every in self._jobs if added == name)

    def tick(self) -> None:
        now = self._clock.now()
        for name, job, every in self._jobs:
            if now - self._last.get(name, float("-inf")) < every:
                continue
            try:
                job(now)
                self._last[name] = now
            except Exception:
                log.exception("scheduled job %s failed; it will run again on the next tick", name)
        self.ticks += 1

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                self.tick()
                self._stop.wait(self._interval)

        self._thread = threading.Thread(target=loop, name="vigil-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """No new tick starts; waits up to `timeout` s for the job running now to finish."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=timeout)
