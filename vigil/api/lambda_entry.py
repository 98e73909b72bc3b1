"""`lambda_handler(name, registrars)`: what `functions/<name>/handler.py` exports.

Adds Powertools Logger (structured JSON with the Lambda request id; in Lambda every `vigil.*` logger
shares its configuration) and Powertools Metrics (EMF, namespace `Vigil`; disabled locally through
POWERTOOLS_METRICS_DISABLED, which `vigil serve` sets) around the shared `FunctionEntry`.
EventBridge schedule events (`source == "aws.events"`) go to the function's scheduled job instead of
the resolver. Every API invocation adds `ApiLatency` (ms; and `ApiServerErrors` on a 5xx) through
`vigil.api.request_metrics`. The cycle collector paused for the cold start (`vigil.cold_start`) runs
again once the first invocation returns.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from aws_lambda_powertools import Metrics

from vigil import cold_start
from vigil.api.app import FunctionEntry, Registrar
from vigil.api.request_metrics import publish_request_metrics
from vigil.lambda_logging import function_logger, with_request_id

# Read-only requests publish no metric; Powertools warns about that on every invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish")
ScheduledJob = Callable[[dict[str, Any], Any], dict[str, Any]]  # (event, Lambda context)


def lambda_handler(
    name: str,
    registrars: Sequence[Registrar],
    scheduled: ScheduledJob | None = None,
    *,
    validation: bool = True,
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """`validation=False`: no Powertools validation (nor pydantic) for a function whose routes take no
    input (`vigil.api.app.new_resolver` checks that)."""
    logger = function_logger(name)
    metrics = Metrics(namespace="Vigil", service=f"vigil-{name}")
    entry = FunctionEntry(name, registrars, validation)

    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            return serve(event, context)
        finally:
            cold_start.resume()

    def serve(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with_request_id(logger, context)
        if event.get("source") == "aws.events" and scheduled is not None:
            return scheduled(event, context)
        started = time.perf_counter()
        response = entry(event, context)
        seconds = time.perf_counter() - started
        publish_request_metrics(
            metrics, entry.resolver(), event, int(response.get("statusCode", 200)), seconds
        )
        return response

    handler.entry = entry  # type: ignore[attr-defined]  # the local gateway reuses the same entry
    return handler
