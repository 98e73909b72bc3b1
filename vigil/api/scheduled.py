"""Scheduled jobs the Lambda functions run when EventBridge invokes them (`lambda_handler(...,
scheduled=...)`): the metrics function's run every 5 minutes. The rule sends EventBridge's default
scheduled event (`source: aws.events`, `detail-type: Scheduled Event`); nothing else in it is read.

Every run builds the fleet tier (`services.fleet`); the hourly/daily rollup job runs on the first run
of each hour (the rollup watermark is an older hour), so it costs what it cost on an hourly schedule.
The cost readout's usage collector (`services.cost.collect_cloudwatch_usage`) keeps its own
watermark: it reads CloudWatch once per completed hour, and a failure there is logged and retried
on the next run without holding up the fleet tier or the rollups."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from vigil.wiring import app_context


def rollups(event: dict[str, Any]) -> dict[str, Any]:
    from vigil.services.fleet import run_fleet
    from vigil.services.queries import snapshot_window
    from vigil.services.rollups import STATE_KIND, WATERMARK_ID, hour_of, run_rollups

    ctx = app_context()
    now = ctx.clock.now()
    retention = ctx.config.retention_seconds
    window = snapshot_window(ctx.config)
    thresholds = asdict(ctx.config.thresholds)
    fleet = run_fleet(
        ctx.store, now, retention_seconds=retention, snapshot_window=window, thresholds=thresholds
    )
    cost = cost_usage(now)
    state = ctx.store.get_doc(STATE_KIND, WATERMARK_ID) or {}
    if "hour" in state and float(state["hour"]) >= hour_of(now):
        return {"rollups": "already ran this hour", "fleet": fleet, **cost}
    return {**run_rollups(ctx.store, now, retention_seconds=retention), "fleet": fleet, **cost}


def cost_usage(now: float) -> dict[str, Any]:
    from vigil.services.cost import collect_cloudwatch_usage

    ctx = app_context()
    try:
        return collect_cloudwatch_usage(ctx.store, ctx.config, now)
    except Exception:  # the cost readout must never stop the rollups; the watermark retries the hour
        logging.getLogger("vigil.cost").exception("collecting CloudWatch usage failed")
        return {"cost": "failed"}
