"""Dead-letter routes (the `alerts` function, admin only): list undeliverable notifications page by
page, replay one, or discard it. In AWS the list first imports what the notify function's SQS
dead-letter queue holds. The work is in `vigil.alerting.dead_letters`."""

# Route modules import Powertools at module level: its validation reads the annotations, which
# must resolve at registration time (no `from __future__ import annotations` here).
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from vigil.alerting import dead_letters
from vigil.api.app import vigil_context
from vigil.api.docs import documented

Id = Annotated[str, Path(max_length=128, pattern=r"^[A-Za-z0-9_.:\-]+$")]
BASE = "/api/notifications/dead-letters"


def _queue(ctx: Any) -> Any:
    from vigil.alerting.entry import dead_letter_queue_for  # lazy: boto3 only when a DLQ is configured

    return dead_letter_queue_for(ctx)


def register(app: APIGatewayHttpResolver) -> None:
    @app.get(
        BASE,
        tags=["notifications"],
        summary="Undeliverable notifications, newest first",
        responses=documented(),
    )
    def list_dead_letters(
        limit: Annotated[int, Query(ge=1, le=dead_letters.MAX_PAGE)] = 50,
        cursor: Annotated[str | None, Query(max_length=512)] = None,
    ) -> dict[str, Any]:
        ctx = vigil_context(app)
        queue = _queue(ctx)
        if queue is not None and not cursor:  # page one shows what Lambda gave up on meanwhile
            dead_letters.import_queue(ctx.store, queue, ctx.clock.now())
        return dead_letters.page(ctx.store, limit=limit, cursor=cursor)

    @app.post(
        f"{BASE}/<dead_letter_id>/replay",
        tags=["notifications"],
        summary="Deliver a dead letter again to the channels it has not reached",
        responses=documented(),
    )
    def replay(dead_letter_id: Id) -> dict[str, Any]:
        ctx = vigil_context(app)
        return dead_letters.replay(ctx.store, ctx.config, dead_letter_id, ctx.clock.now(), queue=_queue(ctx))

    @app.delete(
        f"{BASE}/<dead_letter_id>",
        tags=["notifications"],
        summary="Discard a dead letter",
        responses=documented(),
    )
    def discard(dead_letter_id: Id) -> dict[str, Any]:
        dead_letters.discard(vigil_context(app).store, dead_letter_id)
        return {"deleted": dead_letter_id}
