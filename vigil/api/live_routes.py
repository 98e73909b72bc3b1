"""`POST /api/live/ticket` (viewer): a ticket for the live-update stream (`vigil.api.live_tickets`);
`POST /api/live/watch` (viewer): an open dashboard is subscribed (`vigil.services.live_presence`).

The stream itself, `GET /api/live?ticket=`, is served beside the gateway by the local server
(`vigil.local.live`): a Lambda behind API Gateway cannot hold a connection open, so in AWS the
dashboard gets its pushes from the WebSocket API instead, and this route answers 404 there."""

# Route modules import Powertools at module level: its validation reads the annotations, which
# must resolve at registration time (no `from __future__ import annotations` here).
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from pydantic import BaseModel

from vigil.api.app import vigil_context
from vigil.api.docs import documented
from vigil.api.live_tickets import LIVE_PATH, TICKET_SECONDS, issue, ticket_key
from vigil.domain.errors import NotFound
from vigil.services.live_presence import note_watching


class LiveTicket(BaseModel):
    ticket: str
    expires_in: float
    url: str


def register(app: APIGatewayHttpResolver) -> None:
    @app.post(
        "/api/live/ticket",
        tags=["meta"],
        summary="A 60-second, single-use ticket to open the live-update stream GET /api/live?ticket=",
        responses=documented(201, LiveTicket),
    )
    def post_live_ticket() -> Response[LiveTicket]:
        ctx = vigil_context(app)
        if ctx.config.auth_mode != "local" or not ctx.config.admin_token:
            raise NotFound("live updates come from the WebSocket API named in config.json here")
        role = app.context["principal"].role
        ticket = issue(ticket_key(ctx.config.admin_token), role, ctx.clock.now())
        return Response(
            201, "application/json", LiveTicket(ticket=ticket, expires_in=TICKET_SECONDS, url=LIVE_PATH)
        )

    @app.post(
        "/api/live/watch",
        tags=["meta"],
        summary="This dashboard is subscribed to pushed updates (AWS: ingest publishes only while one is)",
        responses=documented(204),
    )
    def post_live_watch() -> Response[str]:
        ctx = vigil_context(app)
        note_watching(ctx.store, ctx.clock.now())
        return Response(204, None, "")
