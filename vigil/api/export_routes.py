"""Viewer route of the metrics function: `GET /api/export` (CSV or JSON of a series query)."""

# Route modules import Powertools at module level: its validation reads the annotations, which
# must resolve at registration time (no `from __future__ import annotations` here).
from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from vigil.api.app import vigil_context
from vigil.api.docs import documented
from vigil.api.params import (
    FromParam,
    GroupByParam,
    HostParam,
    LabelsParam,
    MetricParam,
    StepParam,
    ToParam,
)
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
        metric: MetricParam,
        format: Annotated[str, Query(max_length=16, description="csv | json")] = "csv",
        host: HostParam = None,
        labels: LabelsParam = None,
        from_: FromParam = "-24h",
        to: ToParam = "now",
        agg: Annotated[
            str, Query(max_length=16, description="avg|min|max|sum|count|last|rate|p50|p90|p95|p99")
        ] = "avg",
        step: StepParam = None,
        group_by: GroupByParam = None,
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
