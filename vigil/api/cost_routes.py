"""Viewer route of the metrics function: `GET /api/cost?window=24h|30d`, this deployment's cost per
component and per host-month (`vigil.services.cost`)."""

# Route modules import Powertools at module level: its validation reads the annotations, which
# must resolve at registration time (no `from __future__ import annotations` here).
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.params import Query

from vigil.api.app import vigil_context
from vigil.api.docs import documented
from vigil.services.cost import cost_readout


def register(app: APIGatewayHttpResolver) -> None:
    @app.get(
        "/api/cost",
        tags=["meta"],
        summary="What this deployment costs on AWS: per component and per host-month, last 24 h or 30 d",
        responses=documented(),
    )
    def get_cost(
        window: Annotated[Literal["24h", "30d"], Query(description="the last 24 hours or 30 days")] = "24h",
    ) -> dict[str, Any]:
        ctx = vigil_context(app)
        return cost_readout(ctx.store, ctx.config, window, ctx.clock.now())
