"""Web Push routes (the `alerts` function; `vigil.alerting.push` does the work). Viewers may subscribe
their own browser: it receives only alerts they may read anyway (`vigil.api.auth.required_role`).

- `GET /api/push/vapid-public-key`: the `applicationServerKey` for `pushManager.subscribe`.
- `POST /api/push/subscriptions`: the browser's `PushSubscription.toJSON()` (+ `severities`) → 201.
- `DELETE /api/push/subscriptions/{id}`: the id is `p-` + the first 24 hex digits of the
  SHA-256 of the endpoint, so a page can name its browser's subscription without keeping anything.
"""

# Route modules import Powertools at module level: its validation reads the annotations, which
# must resolve at registration time (no `from __future__ import annotations` here).
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from pydantic import BaseModel

from vigil.alerting import push
from vigil.api.app import vigil_context
from vigil.api.docs import documented
from vigil.domain.push import PushSubscriptionIn

SubscriptionId = Annotated[str, Path(max_length=64, pattern=r"^p-[0-9a-f]{24}$")]


class VapidPublicKey(BaseModel):
    public_key: str  # base64url uncompressed P-256 point: `applicationServerKey`


class PushSubscriptionOut(BaseModel):
    id: str
    push_service: str  # the endpoint's origin only: the full URL is a credential
    severities: list[str]
    created_at: float | None = None


def register(app: APIGatewayHttpResolver) -> None:
    @app.get(
        "/api/push/vapid-public-key",
        tags=["push"],
        summary="The VAPID public key browsers subscribe with (applicationServerKey, base64url)",
        responses=documented(200, VapidPublicKey),
    )
    def get_vapid_public_key() -> VapidPublicKey:
        ctx = vigil_context(app)
        return VapidPublicKey(public_key=push.vapid_keys(ctx.store, ctx.config).public_key)

    @app.post(
        "/api/push/subscriptions",
        tags=["push"],
        summary="Subscribe this browser (PushSubscription.toJSON(), optional severities) to alerts",
        responses=documented(201, PushSubscriptionOut),
    )
    def create_push_subscription(
        subscription: Annotated[PushSubscriptionIn, Body()],
    ) -> Response[PushSubscriptionOut]:
        ctx = vigil_context(app)
        data = subscription.model_dump(mode="json")
        out = push.subscribe(ctx.store, ctx.config, data, ctx.clock.now())
        return Response(201, "application/json", PushSubscriptionOut(**out))

    @app.delete(
        "/api/push/subscriptions/<subscription_id>",
        tags=["push"],
        summary="Unsubscribe a browser",
        responses=documented(204),
    )
    def delete_push_subscription(subscription_id: SubscriptionId) -> Response[Any]:
        push.unsubscribe(vigil_context(app).store, subscription_id)
        return Response(204, None, "")
