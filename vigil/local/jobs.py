"""The local scheduler's storage jobs (what EventBridge-scheduled Lambdas do in AWS): retention purges,
rollups and the fleet tier. `vigil serve` runs them in its jobs worker process (`worker.py`): each
takes seconds of CPU in Python after a burst of ingest (measured: fleet 3.2 s, rollups 3.9 s after
750 k samples), which in the server process would be seconds the dashboard's reads and `/health` wait
for the interpreter lock. `STORAGE_JOBS` maps the scheduler's job names to them.

Must not import waitress (the worker process imports this module).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

from vigil.wiring import AppContext


def retention_job(ctx: AppContext, now: float) -> object:
    """Raw samples and rollups past their retention, then alerting's records past theirs."""
    from vigil.alerting.retention import purge_records

    samples = ctx.store.purge_expired(now)
    return {"samples": samples, "records": purge_records(ctx.store, ctx.config.record_retention, now)}


def trace_retention_job(ctx: AppContext, now: float) -> object:
    return ctx.trace_store.purge_expired(now)


def rollup_job(ctx: AppContext, now: float) -> object:
    from vigil.services.rollups import run_rollups

    return run_rollups(ctx.store, now, retention_seconds=ctx.config.retention_seconds)


def fleet_job(ctx: AppContext, now: float) -> object:
    from vigil.services.fleet import run_fleet
    from vigil.services.queries import snapshot_window

    window = snapshot_window(ctx.config)
    return run_fleet(
        ctx.store,
        now,
        retention_seconds=ctx.config.retention_seconds,
        snapshot_window=window,
        thresholds=asdict(ctx.config.thresholds),
    )


STORAGE_JOBS: dict[str, Callable[[AppContext, float], object]] = {
    "retention": retention_job,
    "trace-retention": trace_retention_job,
    "rollups": rollup_job,
    "fleet": fleet_job,
}
