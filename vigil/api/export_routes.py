"""Viewer route of the metrics function: `GET /api/export` (CSV or JSON of a series query)."""

# Route modules import Powertools at module level: its validation reads the annotations, which
# must resolve at registration time (no `from __future__ import annotations` here).
from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from vigil.api.app import vigil_context
from vigil.api.docs import documented
from vigil.services import export

EXPORT_RESPONSES: dict[int, OpenAPIResponse] = {
    **documented(),
    200: {
        "description": "The series as a download (Content-Disposition: attachment)",
        "content": {"text/csv": {"schema": {"type": "string"}}, "application/json": {"schema": {}}},
    },
}


def register(app: APIGatewayHttpResolver) -> None:
    @app.get(
        "/api/export",
        tags=["metrics"],
        summary="Download a series as CSV or JSON (what /api/metrics/series returns)",
        responses=EXPORT_RESPONSES,
    )
    def export_series(
        metric: Annotated[str, Query(max_length=200, description="Metric name")],
        format: Annotated[str, Query(max_length=16, description="csv | json")] = "csv",
        host: Annotated[
            str | None, Query(max_length=2000, description="Host, or comma-separated hosts")
        ] = None,
        labels: Annotated[str | None, Query(max_length=2000, description="Label filter k=v,k2=v2")] = None,
        from_: Annotated[
            str, Query(alias="from", max_length=64, description="Start: epoch, RFC 3339, -24h")
        ] = "-24h",
        to: Annotated[str, Query(max_length=64, description="End: epoch, RFC 3339, now")] = "now",
        agg: Annotated[
            str, Query(max_length=16, description="avg|min|max|sum|count|last|rate|p50|p90|p95|p99")
        ] = "avg",
        step: Annotated[str | None, Query(max_length=16, description="Bucket width: 60, 5m, 1h")] = None,
        group_by: Annotated[
            str | None, Query(max_length=200, description="host (default), none, or labels")
        ] = None,
    ) -> Response[bytes]:
        ctx = vigil_context(app)
        content_type, body, name = export.export(
            ctx.store,
            ctx.config,
            ctx.clock.now(),
            fmt=format,
            metric=metric,
            host=host,
            labels=labels,
            start=from_,
            end=to,
            agg=agg,
            step=step,
            group_by=group_by,
        )
        return Response(
            status_code=200,
            content_type=content_type,
            body=body,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
