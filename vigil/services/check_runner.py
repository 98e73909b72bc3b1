"""The check runner: picks the checks that are due, probes them concurrently (a thread pool; each probe
bounded by its own timeout, the run by one total budget), records every result through the normal
ingest path and updates each check's result document.

Samples (host `vigil-checks`, label `check` = the check's name, so charts, the explorer and rules work
on them): `synthetic.up` (1/0), `synthetic.duration` (seconds; label `phase` = dns, connect, tls, ttfb,
total), `synthetic.tls_days_left`, and two the default check alerts read (`vigil.alerting.repo`):
`synthetic.failures` (consecutive failed runs) and `synthetic.tls_expiring` (1 when the certificate
expires within the check's `tls_expiry_days`).

Local mode's scheduler calls `run_due` every few seconds; in AWS the alerts function's per-minute
schedule does, before it evaluates the rules (`vigil.alerting.entry`). Imports: `vigil.domain`,
`vigil.services`, `vigil.ports`, `vigil.config`; the probe adapter lazily.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from vigil.config import Config
from vigil.domain.checks import CheckIn, RunResult, is_due, parse_target, record_run
from vigil.domain.errors import Conflict
from vigil.domain.models import MAX_BATCH_SAMPLES, SampleBatch, SampleIn
from vigil.ports import Store
from vigil.services import checks as check_docs
from vigil.services.ingest import ingest_samples

log = logging.getLogger(__name__)

SYNTHETIC_HOST = "vigil-checks"
MAX_WORKERS = 32  # probes mostly wait on sockets; 32 threads run 500 loopback checks well inside 60 s
Prober = Callable[[CheckIn], Any]  # returns an adapters.probe.ProbeOutcome


@dataclass
class RunReport:
    ran: list[str] = field(default_factory=list)  # check ids
    up: int = 0
    down: int = 0
    skipped: list[str] = field(default_factory=list)  # due but left for the next run (budget spent)
    seconds: float = 0.0
    changed: bool = False  # a check's status changed (the status page job rewrites on change)


def default_prober(config: Config, ssl_context: ssl.SSLContext | None = None) -> Prober:
    from vigil.adapters.notify.ssrf import check_policy_for
    from vigil.adapters.probe import probe

    policy = check_policy_for(config)
    return lambda check: probe(check, policy, ssl_context=ssl_context)


def run_due(
    store: Store,
    config: Config,
    now: float,
    *,
    prober: Prober | None = None,
    only: Sequence[str] | None = None,
    budget: float | None = None,
) -> RunReport:
    """Run the checks due at `now` (or exactly the ids in `only`, due or not) within `budget` seconds
    (default `VIGIL_CHECKS_BUDGET`). A check still queued when the budget is spent is skipped and runs
    next time; one still running is abandoned (its own timeout ends it) and records nothing."""
    started = time.monotonic()
    budget = config.checks_budget_seconds if budget is None else budget
    prober = prober or default_prober(config)
    definitions = {d["id"]: d for d in store.list_docs(check_docs.KIND) if "id" in d}
    states = {d["id"]: d for d in store.list_docs(check_docs.STATE_KIND) if "id" in d}
    todo: list[tuple[str, CheckIn]] = []
    for check_id, doc in sorted(definitions.items()):
        try:
            check = check_docs.stored_definition(doc)
        except ValueError as exc:
            log.error("skipping invalid stored check %s: %s", check_id, exc)
            continue
        wanted = check_id in only if only is not None else is_due(states.get(check_id), check.interval, now)
        if wanted:
            todo.append((check_id, check))
    report = RunReport()
    if not todo:
        return report
    results: list[tuple[CheckIn, RunResult]] = []
    pool = ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(todo)), thread_name_prefix="vigil-check")
    futures: dict[Future[Any], tuple[str, CheckIn, float]] = {}
    for check_id, check in todo:
        futures[pool.submit(prober, check)] = (check_id, check, now)
    pending = set(futures)
    while pending:
        left = budget - (time.monotonic() - started)
        if left <= 0:
            break
        done, pending = wait(pending, timeout=left, return_when=FIRST_COMPLETED)
        for future in done:
            check_id, check, _ = futures[future]
            results.append((check, _result(check_id, now, future.result())))
    pool.shutdown(wait=False, cancel_futures=True)
    report.skipped = sorted(futures[f][0] for f in pending)
    if report.skipped:
        log.warning("check budget of %gs spent; %d checks wait for the next run", budget, len(report.skipped))
    record_results(store, config, results, now)
    for _check, result in results:
        report.ran.append(result.check_id)
        report.up += int(result.up)
        report.down += int(not result.up)
        before = states.get(result.check_id, {}).get("status")
        report.changed |= before != ("up" if result.up else "down")
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _result(check_id: str, at: float, outcome: Any) -> RunResult:
    """Every result of a run is stamped with the run's `now` (the scheduler's clock, scriptable)."""
    return RunResult(
        check_id,
        at,
        bool(outcome.up),
        dict(outcome.phases),
        outcome.error,
        outcome.status_code,
        outcome.tls_days_left,
    )


def record_results(
    store: Store, config: Config, results: Sequence[tuple[CheckIn, RunResult]], now: float
) -> None:
    """Each result's samples through the ingest path, then each check's result document."""
    samples: list[SampleIn] = []
    for check, result in results:
        state = _update_state(store, result)
        samples.extend(result_samples(check, result, int(state["consecutive_failures"])))
    ingest(store, config, samples, now)


def result_samples(check: CheckIn, result: RunResult, failures: int) -> list[SampleIn]:
    labels = {"check": check.name}
    out = [SampleIn(metric="synthetic.up", value=float(result.up), ts=result.at, labels=labels)]
    out += [
        SampleIn(metric="synthetic.duration", value=seconds, ts=result.at, labels={**labels, "phase": phase})
        for phase, seconds in sorted(result.phases.items())
    ]
    out.append(SampleIn(metric="synthetic.failures", value=float(failures), ts=result.at, labels=labels))
    if result.tls_days_left is not None:
        days = result.tls_days_left
        out.append(SampleIn(metric="synthetic.tls_days_left", value=days, ts=result.at, labels=labels))
        expiring = float(days < check.tls_expiry_days)
        out.append(SampleIn(metric="synthetic.tls_expiring", value=expiring, ts=result.at, labels=labels))
    return out


def closing_samples(name: str, url: str, at: float) -> list[SampleIn]:
    """What a deleted check leaves behind so its alerts resolve at once rather than when its last
    result leaves the rules' window."""
    labels = {"check": name}
    out = [SampleIn(metric="synthetic.failures", value=0.0, ts=at, labels=labels)]
    if parse_target(url).scheme == "https":
        out.append(SampleIn(metric="synthetic.tls_expiring", value=0.0, ts=at, labels=labels))
    return out


def ingest(store: Store, config: Config, samples: list[SampleIn], now: float) -> None:
    """The normal ingest path (validation, timestamps, idempotency, late-rollup notes) without the
    per-host cardinality guard: every series here comes from a check an admin created, and one host
    carries them all (500 checks are ~4,500 series, past the guard meant for pushing clients)."""
    for start in range(0, len(samples), MAX_BATCH_SAMPLES):
        batch = SampleBatch(host=SYNTHETIC_HOST, samples=samples[start : start + MAX_BATCH_SAMPLES])
        ingest_samples(store, config, batch, now, guard=False)


def _update_state(store: Store, result: RunResult, attempts: int = 3) -> dict[str, Any]:
    """Read-modify-write of the result document, guarded by its version (a "run now" and the scheduler
    may record the same check at once: neither's counts are lost)."""
    for attempt in range(attempts):
        old = store.get_doc(check_docs.STATE_KIND, result.check_id)
        new = record_run(old, result)
        try:
            version = 0 if old is None else int(old["_version"])
            return store.put_doc(check_docs.STATE_KIND, result.check_id, new, expected_version=version)
        except Conflict:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
