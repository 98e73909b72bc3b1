"""What a check's results become: samples through the normal ingest path and the check's result
document (`check_state`). Split from the runner, which decides what runs when.

Samples (host `vigil-checks`, label `check` = the check's name, so charts, the explorer and rules work
on them): `synthetic.up` (1/0), `synthetic.duration` (seconds; label `phase` = dns, connect, tls, ttfb,
total), `synthetic.tls_days_left`, and the two the default check alerts read with `agg: last`
(`vigil.domain.rules.check_rules`): `synthetic.failures` (consecutive failed runs) and
`synthetic.tls_expiring` (1 while the certificate expires within the check's `tls_expiry_days`).
Those two are the check's *state*: a check that runs less often than every `STATE_REFRESH_SECONDS`
gets them written again in between (`refresh_state`), so the rules' 5-minute window, shared with every
other default rule's read, always holds each check's latest state.

Imports: `vigil.domain`, `vigil.services`, `vigil.ports`, `vigil.config`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from vigil.config import Config
from vigil.domain.checks import CheckIn, RunResult, parse_target, record_run
from vigil.domain.errors import Conflict
from vigil.domain.models import MAX_BATCH_SAMPLES, SampleBatch, SampleIn
from vigil.domain.rule_records import CHECK_RULE_WINDOW, CHECKS_HOST
from vigil.ports import Store
from vigil.services import checks as check_docs
from vigil.services.ingest import ingest_samples

SYNTHETIC_HOST = CHECKS_HOST
STATE_REFRESH_SECONDS = CHECK_RULE_WINDOW / 2.5  # two refreshes per window: one may be late
RECORD_WORKERS = 16


def record_results(
    store: Store, config: Config, results: Sequence[tuple[CheckIn, RunResult]], now: float
) -> dict[str, dict[str, Any]]:
    """Each result's result document, then all their samples in as few batches as the ingest allows.
    Returns the previous result documents by check id (the caller tells status changes from them)."""
    before: dict[str, dict[str, Any]] = {}
    samples: list[SampleIn] = []

    def update(result: RunResult) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        return _update_state(store, result.check_id, functools.partial(_recorded, result))

    # Each document is a read and a write: on DynamoDB, one at a time, 500 checks would take seconds
    # of the alerts function's minute; the stores are thread-safe (SQLite serialises its writes).
    with ThreadPoolExecutor(max_workers=max(1, min(RECORD_WORKERS, len(results)))) as pool:
        updated = list(pool.map(update, [result for _, result in results]))
    for (check, result), (old, state) in zip(results, updated, strict=True):
        before[result.check_id] = old or {}
        samples.extend(result_samples(check, result, state))
    ingest(store, config, samples, now)
    return before


def _recorded(result: RunResult, old: dict[str, Any] | None) -> dict[str, Any]:
    return record_run(old, result)


def refresh_state(store: Store, config: Config, due: Sequence[tuple[CheckIn, str]], now: float) -> None:
    """Write the state samples again for checks that ran too long ago for the rules' window."""
    samples: list[SampleIn] = []
    for check, check_id in due:

        def stamp(old: dict[str, Any] | None) -> dict[str, Any]:
            return {**(old or {}), "emitted_at": now}

        _, state = _update_state(store, check_id, stamp)
        samples.extend(state_samples(check, state, now))
    ingest(store, config, samples, now)


def needs_refresh(state: dict[str, Any] | None, now: float) -> bool:
    if not state or state.get("last_checked_at") is None:
        return False
    emitted = float(state.get("emitted_at") or state["last_checked_at"])
    return now - emitted >= STATE_REFRESH_SECONDS


def result_samples(check: CheckIn, result: RunResult, state: dict[str, Any]) -> list[SampleIn]:
    labels = {"check": check.name}
    out = [SampleIn(metric="synthetic.up", value=float(result.up), ts=result.at, labels=labels)]
    out += [
        SampleIn(metric="synthetic.duration", value=seconds, ts=result.at, labels={**labels, "phase": phase})
        for phase, seconds in sorted(result.phases.items())
    ]
    if result.tls_days_left is not None:
        days = result.tls_days_left
        out.append(SampleIn(metric="synthetic.tls_days_left", value=days, ts=result.at, labels=labels))
    return out + state_samples(check, state, result.at)


def state_samples(check: CheckIn, state: dict[str, Any], at: float) -> list[SampleIn]:
    """`synthetic.failures` and, once a certificate was read, `synthetic.tls_expiring` (from the last
    days read: a run that fails before the handshake keeps the last known answer)."""
    labels = {"check": check.name}
    failures = float(state.get("consecutive_failures", 0))
    out = [SampleIn(metric="synthetic.failures", value=failures, ts=at, labels=labels)]
    days = state.get("tls_days_left")
    if days is not None:
        expiring = float(float(days) < check.tls_expiry_days)
        out.append(SampleIn(metric="synthetic.tls_expiring", value=expiring, ts=at, labels=labels))
    return out


def closing_samples(name: str, url: str, at: float) -> list[SampleIn]:
    """What a deleted check leaves behind so its alerts resolve at once rather than when its last
    state leaves the rules' window."""
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


def _update_state(
    store: Store,
    check_id: str,
    change: Callable[[dict[str, Any] | None], dict[str, Any]],
    attempts: int = 3,
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Read-modify-write of the result document, guarded by its version (a "run now" and the scheduler
    may record the same check at once: neither's counts are lost). Returns (before, after)."""
    for attempt in range(attempts):
        old = store.get_doc(check_docs.STATE_KIND, check_id)
        new = change(old)
        try:
            version = 0 if old is None else int(old["_version"])
            return old, store.put_doc(check_docs.STATE_KIND, check_id, new, expected_version=version)
        except Conflict:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
