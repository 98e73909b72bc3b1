"""Synthetic checks: `GET/POST /api/checks`, `GET/PUT/DELETE /api/checks/{check_id}`,
`POST /api/checks/{check_id}/run`. Viewers read; admins write and run (route policy in
`vigil.api.auth`). Served by the alerts function, whose schedule also runs the due checks."""

# Route modules import Powertools at module level: its validation reads the annotations, which
# must resolve at registration time (no `from __future__ import annotations` here).
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from vigil.api.app import vigil_context
from vigil.api.docs import documented
from vigil.api.pages import WHOLE_PAGE, CursorParam, LimitParam, array_page
from vigil.domain.checks import Check, CheckIn
from vigil.domain.paging import paginate
from vigil.services import check_results, check_runner, checks

CheckId = Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")]
StatusParam = Annotated[
    Literal["up", "down", "pending"] | None,
    Query(description="Only checks in this state (the overview's badge asks for `down`)"),
]


def register(app: APIGatewayHttpResolver) -> None:
    @app.get(
        "/api/checks", tags=["checks"], summary="Checks with their latest results", responses=documented()
    )
    def list_checks(
        limit: LimitParam = WHOLE_PAGE, cursor: CursorParam = None, status: StatusParam = None
    ) -> Response[Any]:
        ctx = vigil_context(app)
        items = checks.list_checks(ctx.store, ctx.clock.now())
        if status is not None:
            items = [c for c in items if c.status == status]
        page, next_cursor = paginate(items, lambda c: [c.name.lower(), c.id], limit=limit, cursor=cursor)
        return array_page([c.model_dump(mode="json") for c in page], next_cursor)

    @app.post(
        "/api/checks", tags=["checks"], summary="Create a check", responses=documented(201, Check, "Created")
    )
    def create_check(body: Annotated[CheckIn, Body()]) -> Response[Check]:
        ctx = vigil_context(app)
        return Response(201, "application/json", checks.create(ctx.store, ctx.config, body, ctx.clock.now()))

    @app.get("/api/checks/<check_id>", tags=["checks"], summary="One check", responses=documented(200, Check))
    def get_check(check_id: CheckId) -> Check:
        ctx = vigil_context(app)
        return checks.get(ctx.store, check_id, ctx.clock.now())

    @app.put(
        "/api/checks/<check_id>", tags=["checks"], summary="Replace a check", responses=documented(200, Check)
    )
    def put_check(check_id: CheckId, body: Annotated[CheckIn, Body()]) -> Check:
        ctx = vigil_context(app)
        return checks.replace(ctx.store, ctx.config, check_id, body, ctx.clock.now())

    @app.delete(
        "/api/checks/<check_id>",
        tags=["checks"],
        summary="Delete a check (its alerts resolve)",
        responses=documented(204, None, "Deleted"),
    )
    def delete_check(check_id: CheckId) -> Response[str]:
        ctx = vigil_context(app)
        now = ctx.clock.now()
        gone = checks.delete(ctx.store, check_id)
        closing = check_results.closing_samples(gone["name"], gone["url"], now)
        check_results.ingest(ctx.store, ctx.config, closing, now)
        return Response(204, None, "")

    @app.post(
        "/api/checks/<check_id>/run",
        tags=["checks"],
        summary="Run a check now; answers the check with this run's result",
        responses=documented(200, Check),
    )
    def run_check(check_id: CheckId) -> Check:
        ctx = vigil_context(app)
        checks.get_doc(ctx.store, check_id)  # 404 before any probing
        check_runner.run_due(ctx.store, ctx.config, ctx.clock.now(), only=[check_id])
        return checks.get(ctx.store, check_id, ctx.clock.now())
