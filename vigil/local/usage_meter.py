"""Local mode's cost meter: what the local server's work would be billed on AWS, from its own
counters, so Settings → Cost answers "what would this cost in AWS" without an AWS account.

- API Gateway requests: every request the gateway hands to a function (`Gateway(usage=...)`).
- Lambda requests and GB-seconds: those requests plus the scheduled jobs AWS would invoke
  (alert evaluation, the metrics function's 5-minute job), each for its measured wall time at the
  function's memory (`FUNCTION_MEMORY_MB`). Local evaluation runs every `MONITORING_INTERVAL`; AWS
  evaluates every minute, so each local run counts as `interval / 60` of an invocation — its store
  reads and writes too.
- DynamoDB request units: ESTIMATED from rows and bytes by `MeteredStore` (see there), not measured.
- Storage: the SQLite file's size (with its WAL) per hour — the local layout, not DynamoDB's.
- SNS: one publish per `notification_out` record (the evaluator's publish), one delivery per
  `delivery` record the fan-out writes.
- Logs: `LOG_BYTES_PER_INVOCATION` per invocation (a request's EMF line, as bench_scale prices it).
- Every ingest request counts as an API Gateway request: locally there is one URL, so the readout
  cannot tell which of AWS's two ways in (the HTTP API, or the cheaper Function URL) a client would use.

`flush(now)` (a scheduler job) adds what was counted since the last flush to the current hour's
usage document. Local chores with no AWS bill of their own run `uncounted` (the retention purge:
DynamoDB's TTL deletes for free; self-metrics samples: EMF in AWS; the flush itself).
Must not import waitress or boto3.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

from vigil.api.route_table import FUNCTION_MEMORY_MB, FunctionName
from vigil.domain.cost import Usage
from vigil.domain.pricing import LOG_BYTES_PER_INVOCATION
from vigil.ports import Store
from vigil.services.cost import add_usage, hour_of

AWS_EVALUATION_SECONDS = 60.0  # the alerts function's EventBridge schedule
# While a scheduled job runs (on the scheduler's thread), what it adds counts at its share of an AWS
# invocation: an evaluation every 10 s reads the store six times as often as AWS's one a minute.
_scale: contextvars.ContextVar[float] = contextvars.ContextVar("vigil_usage_scale", default=1.0)


class UsageMeter:
    """Thread-safe counters; request threads and the scheduler add, `flush` takes them."""

    def __init__(self, database: Path | None = None, started: float | None = None) -> None:
        self._database = database
        self._lock = threading.Lock()
        self._usage = Usage()
        self._last_flush = started

    def add(self, **units: float) -> None:
        scale = _scale.get()
        with self._lock:
            for name, value in units.items():
                setattr(self._usage, name, getattr(self._usage, name) + value * scale)

    def invocation(
        self, function: FunctionName, seconds: float, *, http: bool, share: float = 1.0, request: bool = True
    ) -> None:
        """One Lambda invocation (`share` of one, for a local schedule denser than AWS's); `request`
        False for work AWS does inside another invocation (the fleet tier rides on the rollup job's)."""
        self.add(
            api_requests=1.0 if http else 0.0,
            lambda_requests=share if request else 0.0,
            lambda_gb_seconds=share * max(0.0, seconds) * FUNCTION_MEMORY_MB[function] / 1024.0,
            log_bytes=share * LOG_BYTES_PER_INVOCATION,
        )

    def scheduled(
        self, function: FunctionName, job: Callable[[float], object], share: float = 1.0, request: bool = True
    ) -> Callable[[float], object]:
        """`job` wrapped so each run counts as (a share of) an invocation of `function`."""

        def run(now: float) -> object:
            started = time.perf_counter()
            token = _scale.set(share)
            try:
                return job(now)
            finally:
                _scale.reset(token)
                seconds = time.perf_counter() - started
                self.invocation(function, seconds, http=False, share=share, request=request)

        return run

    def uncounted(self, job: Callable[[float], object]) -> Callable[[float], object]:
        """`job` wrapped so its store work counts nothing: local chores AWS does for free or
        elsewhere (TTL instead of the retention purge, EMF instead of self-metrics samples, this
        meter's own flushes)."""

        def run(now: float) -> object:
            token = _scale.set(0.0)
            try:
                return job(now)
            finally:
                _scale.reset(token)

        return run

    def take_counts(self) -> dict[str, float]:
        """The counters added since the last call, without the time and storage they cover (and forget
        them): what a worker process (`worker.py`) hands back to the server's meter with each result."""
        with self._lock:
            usage, self._usage = self._usage, Usage()
        return {f.name: value for f in fields(usage) if (value := getattr(usage, f.name))}

    def take(self, now: float) -> Usage:
        """What was counted since the last call, covering the time since then (and forget it)."""
        with self._lock:
            usage, self._usage = self._usage, Usage()
            last, self._last_flush = self._last_flush, now
        usage.seconds = max(0.0, now - last) if last is not None else 0.0
        usage.storage_gb_hours = self.stored_gb() * usage.seconds / 3600.0
        return usage

    def stored_gb(self) -> float:
        if self._database is None:
            return 0.0
        files = (self._database, self._database.with_name(self._database.name + "-wal"))
        return sum(f.stat().st_size for f in files if f.exists()) / 1e9

    def flush(self, store: Store, now: float) -> Usage:
        """Add the counts since the last flush to the current hour's usage document."""
        usage = self.take(now)
        add_usage(store, hour_of(now), usage)
        return usage
