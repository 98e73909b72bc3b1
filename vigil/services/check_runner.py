"""The check runner: picks the checks that are due, probes them concurrently (a thread pool; each probe
bounded by its own timeout, the run by one total budget) and hands the results to
`vigil.services.check_results` (samples through the ingest path, result documents).

Local mode's scheduler calls `run_due` every few seconds; in AWS the alerts function's per-minute
schedule does, before it evaluates the rules (`vigil.alerting.entry`). Imports: `vigil.domain`,
`vigil.services`, `vigil.ports`, `vigil.config`; lazily, once a check exists, the probe adapter, the
pydantic check model and the results path (the alerts function's minute tick without checks loads
none of them: `bench/bench_coldstart.py`).
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vigil.config import Config
from vigil.domain.check_runs import CHECK_KIND, CHECK_STATE_KIND, RunResult, is_due
from vigil.domain.rule_records import CHECKS_HOST
from vigil.ports import Store

if TYPE_CHECKING:
    from vigil.adapters.probe import ProbeOutcome
    from vigil.domain.checks import CheckIn

log = logging.getLogger(__name__)

__all__ = ["SYNTHETIC_HOST", "RunReport", "default_prober", "run_due"]
SYNTHETIC_HOST = CHECKS_HOST  # the host the results' samples carry (`services.check_results`)
MAX_WORKERS = 32  # probes mostly wait on sockets; 32 threads run 500 loopback checks well inside 60 s
Prober = Callable[["CheckIn"], "ProbeOutcome"]


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
    (default `VIGIL_CHECKS_BUDGET`). A check whose timeout no longer fits in the budget when a worker
    gets to it is skipped and runs next time (the longest-waiting go first)."""
    started = time.monotonic()
    report = RunReport()
    definitions = {d["id"]: d for d in store.list_docs(CHECK_KIND) if "id" in d}
    if not definitions:  # no check: one read, and the minute tick loads neither pydantic nor the prober
        return report
    from vigil.services.check_results import record_results, refresh_state

    budget = config.checks_budget_seconds if budget is None else budget
    prober = prober or default_prober(config)
    states = {d["id"]: d for d in store.list_docs(CHECK_STATE_KIND) if "id" in d}
    todo, stale = _select(definitions, states, now, only)
    if stale:
        refresh_state(store, config, stale, now)
    if not todo:
        return report
    results: list[tuple[CheckIn, RunResult]] = []
    deadline = started + budget

    def bounded(check: CheckIn) -> ProbeOutcome | None:
        # Started only if its whole timeout fits in what is left of the budget: a run ends within its
        # budget without abandoning a probe halfway (an abandoned probe would record nothing).
        if time.monotonic() + check.timeout > deadline:
            return None
        return prober(check)

    with ThreadPoolExecutor(
        max_workers=min(MAX_WORKERS, len(todo)), thread_name_prefix="vigil-check"
    ) as pool:
        futures = [(check_id, check, pool.submit(bounded, check)) for check_id, check in todo]
        for check_id, check, future in futures:
            outcome = future.result()
            if outcome is None:
                report.skipped.append(check_id)
            else:
                results.append((check, _result(check_id, now, outcome)))
    if report.skipped:
        log.warning("check budget of %gs spent; %d checks wait for the next run", budget, len(report.skipped))
    before = record_results(store, config, results, now)
    for _check, result in results:
        report.ran.append(result.check_id)
        report.up += int(result.up)
        report.down += int(not result.up)
        report.changed |= before[result.check_id].get("status") != ("up" if result.up else "down")
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _select(
    definitions: dict[str, dict[str, Any]],
    states: dict[str, dict[str, Any]],
    now: float,
    only: Sequence[str] | None,
) -> tuple[list[tuple[str, CheckIn]], list[tuple[CheckIn, str]]]:
    """The checks to run, the longest-waiting first (never run before all): when the budget runs out,
    the ones left over ran most recently, so no check starves behind the same others every run. And
    (on scheduled runs) the checks not running now whose state samples need writing again."""
    from vigil.services import checks as check_docs
    from vigil.services.check_results import needs_refresh

    def waited(item: tuple[str, dict[str, Any]]) -> tuple[float, str]:
        return float(states.get(item[0], {}).get("last_checked_at", float("-inf"))), item[0]

    todo, stale = [], []
    for check_id, doc in sorted(definitions.items(), key=waited):
        try:
            check = check_docs.stored_definition(doc)
        except ValueError as exc:
            log.error("skipping invalid stored check %s: %s", check_id, exc)
            continue
        wanted = check_id in only if only is not None else is_due(states.get(check_id), check.interval, now)
        if wanted:
            todo.append((check_id, check))
        elif only is None and needs_refresh(states.get(check_id), now):
            stale.append((check, check_id))
    return todo, stale


def _result(check_id: str, at: float, outcome: ProbeOutcome) -> RunResult:
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
