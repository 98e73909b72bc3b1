"""`lambda_handler(name, registrars)`: what `functions/<name>/handler.py` exports.

Adds Powertools Logger (structured JSON with the Lambda request id; in Lambda every `vigil.*` logger
shares its configuration) and Powertools Metrics (EMF, namespace `Vigil`; disabled locally through
POWERTOOLS_METRICS_DISABLED, which `vigil serve` sets) around the shared `FunctionEntry`.
EventBridge schedule events (`source == "aws.events"`) go to the function's scheduled job instead of
the resolver. Every API invocation adds `ApiLatency` (ms; and `ApiServerErrors` on a 5xx) through
`vigil.api.request_metrics`.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from vigil.api.app import FunctionEntry, Registrar
from vigil.api.request_metrics import publish_request_metrics
from vigil.config import running_in_lambda

# Read-only requests publish no metric; Powertools warns about that on every invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish")
ScheduledJob = Callable[[dict[str, Any]], dict[str, Any]]


def lambda_handler(
    name: str, registrars: Sequence[Registrar], scheduled: ScheduledJob | None = None
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    logger = Logger(service=f"vigil-{name}")
    if running_in_lambda():
        # In Lambda every `vigil.*` logger writes Powertools' JSON (with the request id). Locally they
        # keep propagating to the root logger `vigil serve` configures (and tests capture).
        copy_config_to_registered_loggers(source_logger=logger, include={"vigil"})
    metrics = Metrics(namespace="Vigil", service=f"vigil-{name}")
    entry = FunctionEntry(name, registrars)

    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        request_id = getattr(context, "aws_request_id", None)
        if request_id:
            logger.append_keys(request_id=request_id)
        if event.get("source") == "aws.events" and scheduled is not None:
            return scheduled(event)
        started = time.perf_counter()
        response = entry(event, context)
        seconds = time.perf_counter() - started
        publish_request_metrics(
            metrics, entry.resolver(), event, int(response.get("statusCode", 200)), seconds
        )
        return response

    handler.entry = entry  # type: ignore[attr-defined]  # the local gateway reuses the same entry
    return handler
