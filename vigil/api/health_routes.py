"""`GET|HEAD /health` for uptime checkers: public, tiny body, no secrets and no host names."""

# Route modules import Powertools at module level: its validation reads the annotations, which
# must resolve at registration time (no `from __future__ import annotations` here).
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from vigil.api.app import vigil_context
from vigil.services.health import check_health

if TYPE_CHECKING:  # a local variable's annotation is never evaluated
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse


def register(app: APIGatewayHttpResolver) -> None:
    def answer(with_body: bool) -> Response[str]:
        ctx = vigil_context(app)
        report = check_health(ctx.store, ctx.config, ctx.clock.now())
        status = 200 if report["status"] == "ok" else 503
        import orjson

        return Response(
            status,
            "application/json",
            orjson.dumps(report).decode() if with_body else "",
            headers={"Cache-Control": "no-store"},
        )

    health_doc: dict[int, OpenAPIResponse] = {
        200: {"description": "Healthy", "content": {"application/json": {"schema": {"type": "object"}}}},
        503: {
            "description": "Unhealthy: `checks` names the failing check",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
    }

    @app.get(
        "/health",
        tags=["health"],
        summary="200 when healthy, 503 with the failing check otherwise",
        responses=health_doc,
        security=[{}],
    )  # `[{}]`: anonymous allowed (public route)
    def health() -> Response[str]:
        return answer(True)

    @app.head("/health", tags=["health"], summary="Same as GET without a body", include_in_schema=False)
    def health_head() -> Response[str]:
        return answer(False)
