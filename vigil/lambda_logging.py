"""Powertools Logger for every Lambda function: structured JSON with the request id; inside Lambda
every `vigil.*` logger shares its configuration, locally they keep propagating to the root logger
`vigil serve` configures (and tests capture). Used by `vigil.api.lambda_entry` (the API functions)
and by the notify function, which has no HTTP resolver. Imports: standard library, Powertools.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from vigil import cold_start
from vigil.config import running_in_lambda

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def function_logger(name: str) -> Logger:
    """The `vigil-<name>` Powertools Logger; in Lambda, `vigil.*` loggers write through it."""
    logger = Logger(service=f"vigil-{name}")
    if running_in_lambda():
        copy_config_to_registered_loggers(source_logger=logger, include={"vigil"})
    return logger


def with_request_id(logger: Logger, context: Any) -> None:
    request_id = getattr(context, "aws_request_id", None)
    if request_id:
        logger.thread_safe_append_keys(request_id=request_id)  # local invocations overlap on threads


def logged(name: str, handler: Handler) -> Handler:
    """`handler` with Powertools logging (for functions that are not HTTP APIs: notify)."""
    logger = function_logger(name)

    def wrapped(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with_request_id(logger, context)
        try:
            return handler(event, context)
        finally:
            cold_start.resume()  # the collector, paused for the cold start (`vigil.cold_start`)

    return wrapped
