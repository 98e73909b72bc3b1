"""Admin routes for ingest keys and viewer tokens: `GET/POST /api/keys`, `DELETE /api/keys/{key_id}`."""

# Route modules import Powertools at module level: its validation reads the annotations, which
# must resolve at registration time (no `from __future__ import annotations` here).
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from vigil.api.app import vigil_context
from vigil.api.docs import documented
from vigil.api.pages import WHOLE_PAGE, CursorParam, LimitParam, array_page
from vigil.domain.models import KeyCreate, KeyCreated, KeyOut
from vigil.services import keys


def register(app: APIGatewayHttpResolver) -> None:
    @app.get("/api/keys", tags=["keys"], summary="List keys (never their secrets)", responses=documented())
    def list_keys(limit: LimitParam = WHOLE_PAGE, cursor: CursorParam = None) -> Response[Any]:
        page, next_cursor = keys.list_keys(vigil_context(app).store, limit=limit, cursor=cursor)
        return array_page([k.model_dump(mode="json") for k in page], next_cursor)

    @app.post(
        "/api/keys",
        tags=["keys"],
        summary="Create a key; the secret is shown only in this response",
        responses=documented(201, KeyCreated, "Created"),
    )
    def create_key(request: Annotated[KeyCreate, Body()]) -> Response[KeyCreated]:
        ctx = vigil_context(app)
        return Response(201, "application/json", keys.create_key(ctx.store, request, ctx.clock.now()))

    @app.delete(
        "/api/keys/<key_id>", tags=["keys"], summary="Revoke a key", responses=documented(200, KeyOut)
    )
    def revoke_key(key_id: Annotated[str, Path(max_length=64)]) -> KeyOut:
        ctx = vigil_context(app)
        out = keys.revoke_key(ctx.store, key_id)
        ctx.auth.forget()
        return out
