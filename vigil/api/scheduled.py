"""Scheduled jobs the metrics code runs when EventBridge invokes it (`lambda_handler(...,
scheduled=...)`): in AWS the jobs function (the metrics function's code with a longer timeout,
`infra/functions.py`) every 5 minutes. Each EventBridge target sends a constant input shaped like the
default scheduled event (`source: aws.events`, so the handler dispatches it here) whose `detail`
names what this invocation does:

  - `{"jobs": ["fleet", "cost"]}`: the fleet tier (`services.fleet`) and the cost readout;
  - `{"jobs": ["rollups"], "shard": i, "shards": N}`: the hourly/daily rollups of the hosts in shard i
    of N (`vigil.domain.shards`), one target per shard, all invoked at once;
  - nothing (EventBridge's default event, `vigil serve`'s tests): every job over every host, as one run.

The rollup job runs on the first run of each hour (its shard's progress is an older hour), so it costs
what it cost on an hourly schedule; a shard that has nothing to do still moves the shared watermark
if the other shards have finished (`rollups.advance_watermark`). The cost readout's usage collector
(`services.cost.collect_cloudwatch_usage`) keeps its own watermark: it reads CloudWatch once per
completed hour, and a failure there is logged and retried on the next run without holding up the
fleet tier or the rollups.

A rollup run stops between hosts once fewer than `JOB_RESERVE_SECONDS` (at most a quarter of the
invocation) are left and saves where it stopped (`rollups.run_rollups`' `resume`), so a catch-up
longer than one invocation is finished by the next runs instead of being killed by the timeout and
started again every time."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

from vigil.domain.errors import Invalid
from vigil.domain.shards import Shard
from vigil.wiring import app_context

JOBS = ("fleet", "cost", "rollups")  # in the order one unsharded run does them
# left for the host in progress and the progress write: one host's whole-week catch-up is a few
# seconds of reads (docs/data-model.md); the jobs function has 240 s, a steady shard run uses < 140
JOB_RESERVE_SECONDS = 60.0


def scheduled_jobs(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Run what the event's `detail` names (see the module).

    Raises:
        Invalid: `detail` names an unknown job or an impossible shard.
    """
    from vigil.services.fleet import run_fleet
    from vigil.services.queries import snapshot_window
    from vigil.services.rollups import advance_watermark, rollups_due, run_rollups

    detail = event.get("detail") or {}
    jobs, shard = jobs_of(detail), Shard.parse(detail)
    ctx = app_context()
    now = ctx.clock.now()
    retention = ctx.config.retention_seconds
    out: dict[str, Any] = {}
    if "fleet" in jobs:
        window = snapshot_window(ctx.config)
        thresholds = asdict(ctx.config.thresholds)
        out["fleet"] = run_fleet(
            ctx.store, now, retention_seconds=retention, snapshot_window=window, thresholds=thresholds
        )
    if "cost" in jobs:
        out.update(cost_usage(now))
    if "rollups" in jobs:
        if rollups_due(ctx.store, now, shard):
            stop = out_of_time(context, JOB_RESERVE_SECONDS)
            run = run_rollups(ctx.store, now, retention_seconds=retention, shard=shard, out_of_time=stop)
            out.update(run)
        else:
            out["rollups"] = "already ran this hour"
            if not shard.whole:
                advance_watermark(ctx.store, shard.count, now)
    return out


def out_of_time(context: Any, reserve_seconds: float) -> Callable[[], bool]:
    """Whether fewer than `reserve_seconds` (at most a quarter of the time left now) of the Lambda
    invocation are left; never, without a Lambda context."""
    if context is None:
        return lambda: False

    def left() -> float:
        return float(context.get_remaining_time_in_millis()) / 1000.0

    reserve = min(reserve_seconds, left() / 4)
    return lambda: left() < reserve


def jobs_of(detail: Mapping[str, Any]) -> tuple[str, ...]:
    """The jobs a scheduled event's `detail` names; all of them when it names none.

    Raises:
        Invalid: `jobs` is not a list of known job names.
    """
    jobs = detail.get("jobs", JOBS)
    if not isinstance(jobs, list | tuple) or not jobs or any(j not in JOBS for j in jobs):
        raise Invalid(f"jobs must be a non-empty list of {', '.join(JOBS)}", field="jobs")
    return tuple(j for j in JOBS if j in jobs)


def cost_usage(now: float) -> dict[str, Any]:
    from vigil.services.cost import collect_cloudwatch_usage

    ctx = app_context()
    try:
        return collect_cloudwatch_usage(ctx.store, ctx.config, now)
    except Exception:  # the cost readout must never stop the rollups; the watermark retries the hour
        logging.getLogger("vigil.cost").exception("collecting CloudWatch usage failed")
        return {"cost": "failed"}
