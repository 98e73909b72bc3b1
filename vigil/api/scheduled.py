"""Scheduled jobs the Lambda functions run when EventBridge invokes them (`lambda_handler(...,
scheduled=...)`): the metrics function's hourly rollup run. The rule sends EventBridge's default
scheduled event (`source: aws.events`, `detail-type: Scheduled Event`); nothing else in it is read."""

from __future__ import annotations

from typing import Any

from vigil.wiring import app_context


def rollups(event: dict[str, Any]) -> dict[str, Any]:
    from vigil.services.rollups import run_rollups

    ctx = app_context()
    return run_rollups(ctx.store, ctx.clock.now(), retention_seconds=ctx.config.retention_seconds)
