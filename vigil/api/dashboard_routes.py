"""Saved dashboards: `GET/POST /api/dashboards`, `GET/PUT/DELETE /api/dashboards/{dashboard_id}`.
Viewers read; admins write (route policy in `vigil.api.auth`)."""

# Route modules import Powertools at module level: its validation reads the annotations, which
# must resolve at registration time (no `from __future__ import annotations` here).
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from vigil.api.app import vigil_context
from vigil.api.docs import documented
from vigil.api.pages import DEFAULT_PAGE, CursorParam, LimitParam
from vigil.domain.dashboards import Dashboard, DashboardIn
from vigil.services import dashboards

DashboardId = Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")]


def register(app: APIGatewayHttpResolver) -> None:
    @app.get("/api/dashboards", tags=["dashboards"], summary="Saved dashboards", responses=documented())
    def list_dashboards(limit: LimitParam = DEFAULT_PAGE, cursor: CursorParam = None) -> dict[str, Any]:
        items, next_cursor = dashboards.list_page(vigil_context(app).store, limit=limit, cursor=cursor)
        return {
            "dashboards": [d.model_dump(mode="json", by_alias=True) for d in items],
            "next_cursor": next_cursor,
        }

    @app.post(
        "/api/dashboards",
        tags=["dashboards"],
        summary="Save a new dashboard",
        responses=documented(201, Dashboard, "Created"),
    )
    def create_dashboard(body: Annotated[DashboardIn, Body()]) -> Response[Dashboard]:
        ctx = vigil_context(app)
        return Response(201, "application/json", dashboards.create(ctx.store, body, ctx.clock.now()))

    @app.get(
        "/api/dashboards/<dashboard_id>",
        tags=["dashboards"],
        summary="One dashboard",
        responses=documented(200, Dashboard),
    )
    def get_dashboard(dashboard_id: DashboardId) -> Dashboard:
        return dashboards.get(vigil_context(app).store, dashboard_id)

    @app.put(
        "/api/dashboards/<dashboard_id>",
        tags=["dashboards"],
        summary="Replace a dashboard",
        responses=documented(200, Dashboard),
    )
    def put_dashboard(dashboard_id: DashboardId, body: Annotated[DashboardIn, Body()]) -> Dashboard:
        ctx = vigil_context(app)
        return dashboards.replace(ctx.store, dashboard_id, body, ctx.clock.now())

    @app.delete(
        "/api/dashboards/<dashboard_id>",
        tags=["dashboards"],
        summary="Delete a dashboard",
        responses=documented(204, None, "Deleted"),
    )
    def delete_dashboard(dashboard_id: DashboardId) -> Response[str]:
        dashboards.delete(vigil_context(app).store, dashboard_id)
        return Response(204, None, "")
