"""Viewer routes of the metrics function: snapshot, series, catalogue, hosts, errors, `/api/me`."""

# Route modules import Powertools at module level: its validation reads the annotations, which
# must resolve at registration time (no `from __future__ import annotations` here).
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from vigil.api.app import json_text, vigil_context
from vigil.api.docs import documented
from vigil.api.pages import DEFAULT_PAGE, CursorParam, LimitParam
from vigil.api.params import (
    FromParam,
    GroupByParam,
    HostParam,
    LabelsParam,
    MetricParam,
    StepParam,
    ToParam,
)
from vigil.services import error_queries, listings, queries
from vigil.services import snapshot as snapshots


def register(app: APIGatewayHttpResolver) -> None:
    @app.get("/api/me", tags=["session"], summary="The caller's role", responses=documented())
    def me() -> dict[str, str]:
        principal = app.context["principal"]
        return {"role": principal.role, "subject": principal.subject}

    @app.get("/api/metrics", tags=["metrics"], summary="Current snapshot with trends", responses=documented())
    def snapshot(
        hosts: Annotated[
            Literal["all"] | None,
            Query(
                description="`all`: `by_host` lists every up host (the Hosts page); by default at most"
                " the 100 worst per KPI, with `count` and `levels` covering every host"
            ),
        ] = None,
    ) -> dict[str, Any]:
        ctx = vigil_context(app)
        return snapshots.snapshot(ctx.store, ctx.config, ctx.clock.now(), all_hosts=hosts == "all")

    @app.get(
        "/api/metrics/series",
        tags=["metrics"],
        summary="Columnar time series for charts",
        responses=documented(),
    )
    def series(
        metric: MetricParam,
        host: HostParam = None,
        labels: LabelsParam = None,
        from_: FromParam = "-1h",
        to: ToParam = "now",
        agg: Annotated[
            str,
            Query(
                max_length=64,
                description="avg|min|max|sum|count|last|rate|p50|p90|p95|p99, or several comma-separated"
                " (p50,p95,p99): one series per agg, each with its `agg`",
            ),
        ] = "avg",
        step: StepParam = None,
        group_by: GroupByParam = None,
        forecast: Annotated[
            str | None,
            Query(
                max_length=16,
                description="e.g. 7d: each series gains `forecast` {timestamps, values, slope_per_day}, the "
                "least-squares line through its steps extended to `to` + forecast",
            ),
        ] = None,
        band: Annotated[
            str | None,
            Query(
                max_length=8,
                description="week: each series gains `band` {mean, lower, upper} per step, its hour-of-week "
                "baseline over up to 4 past weeks (hourly rollups; null with less than a week of history)",
            ),
        ] = None,
        offset: Annotated[
            str | None,
            Query(
                max_length=16,
                description="e.g. 7d: each series gains `offset_values`, the same query that much earlier, "
                "aligned to `timestamps`",
            ),
        ] = None,
    ) -> Response[str]:
        ctx = vigil_context(app)
        # Encoded here, once: with a dict returned, Powertools' response validation first copies the
        # whole answer through pydantic (every value of a 144,000-point answer) before orjson runs.
        answer = queries.series(
            ctx.store,
            ctx.config,
            ctx.clock.now(),
            metric=metric,
            host=host,
            labels=labels,
            start=from_,
            end=to,
            agg=agg,
            step=step,
            group_by=group_by,
            forecast=forecast,
            band=band,
            offset=offset,
        )
        return Response(200, "application/json", json_text(answer))

    @app.get(
        "/api/metrics/catalog",
        tags=["metrics"],
        summary="Known metrics with units and sections",
        responses=documented(),
    )
    def catalog() -> dict[str, Any]:
        return listings.catalog(vigil_context(app).store)

    @app.get(
        "/api/hosts", tags=["metrics"], summary="Hosts with last seen and up/down", responses=documented()
    )
    def hosts(limit: LimitParam = DEFAULT_PAGE, cursor: CursorParam = None) -> dict[str, Any]:
        ctx = vigil_context(app)
        return listings.hosts(ctx.store, ctx.config, ctx.clock.now(), limit=limit, cursor=cursor)

    @app.get(
        "/api/errors",
        tags=["errors"],
        summary="Application errors grouped by fingerprint",
        responses=documented(),
    )
    def errors(
        since: Annotated[
            str, Query(max_length=64, description="Only groups seen since (default -24h)")
        ] = "-24h",
        limit: LimitParam = DEFAULT_PAGE,
        cursor: CursorParam = None,
    ) -> dict[str, Any]:
        ctx = vigil_context(app)
        return error_queries.error_groups(ctx.store, ctx.clock.now(), since=since, limit=limit, cursor=cursor)
