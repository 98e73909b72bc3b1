"""Vigil's own request metrics, shared by both modes: which route template a request hit, and (in AWS)
the EMF metrics each API invocation publishes through Powertools Metrics.

`route_template(resolver, method, path)` gives the OpenAPI template (`/api/traces/{trace_id}`) of the
route Powertools would pick, `UNMATCHED_ROUTE` when none: label values must stay low-cardinality, so a
scanner's random paths never make new series. Locally `vigil.local.self_metrics` turns the same
observations into Vigil samples (service `vigil`). In AWS `publish_request_metrics` adds `ApiLatency`
(milliseconds) for every request and `ApiServerErrors` (count) for 5xx answers, with the function's
`service` dimension only — route and status go in as EMF metadata (searchable in Logs Insights),
because a dimension per route would be one billed CloudWatch custom metric per route.

Imports no Powertools at module level (the local server reuses `route_template` and `http_method`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

UNMATCHED_ROUTE = "other"
# OpenTelemetry's `http.request.method`: known methods as is, anything else `_OTHER` (bounded labels).
KNOWN_METHODS = frozenset({"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"})


def http_method(method: str) -> str:
    upper = method.upper()
    return upper if upper in KNOWN_METHODS else "_OTHER"


def route_template(resolver: APIGatewayHttpResolver, method: str, path: str) -> str:
    """The template of the route serving `method path`; a path that exists with another method (a
    405) still gets its template; `UNMATCHED_ROUTE` when no route matches the path."""
    # Powertools keeps its routes in these two lists (vigil.api.errors reads them for 405s too).
    routes = resolver._static_routes + resolver._dynamic_routes
    fallback: str | None = None
    for route in routes:
        if route.rule.match(path):
            if route.method == method.upper():
                return str(route.openapi_path)
            fallback = fallback or str(route.openapi_path)
    return fallback or UNMATCHED_ROUTE


def publish_request_metrics(
    metrics: Metrics, resolver: APIGatewayHttpResolver, event: dict[str, Any], status: int, seconds: float
) -> None:
    """Add this invocation's `ApiLatency` (and `ApiServerErrors` on a 5xx) to the EMF blob Powertools
    flushes when the invocation ends. Nothing when POWERTOOLS_METRICS_DISABLED is set (local mode):
    Powertools then never clears its metric set, which would grow and print every 100 requests."""
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.metrics.functions import is_metrics_disabled

    if is_metrics_disabled():
        return

    http = (event.get("requestContext") or {}).get("http") or {}
    method = str(http.get("method") or "GET")
    path = str(event.get("rawPath") or http.get("path") or "/")
    metrics.add_metric(name="ApiLatency", unit=MetricUnit.Milliseconds, value=seconds * 1000.0)
    if status >= 500:
        metrics.add_metric(name="ApiServerErrors", unit=MetricUnit.Count, value=1)
    metrics.add_metadata(key="http.route", value=route_template(resolver, method, path))
    metrics.add_metadata(key="http.request.method", value=http_method(method))
    metrics.add_metadata(key="http.response.status_code", value=status)
