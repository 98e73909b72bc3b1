"""Alerting routes (the `alerts` function): alerts and acknowledgement, rules CRUD and backtest,
silences, channels (secrets never echoed) with a test send, and the in-app inbox. Role checks happen
before routing (`vigil.api.auth.required_role`: reads viewer, writes admin, channel reads admin, the
backtest viewer); the work is in `vigil.alerting.admin`."""

# Route modules import Powertools at module level: its validation reads the annotations, which
# must resolve at registration time (no `from __future__ import annotations` here).
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from vigil.alerting import admin, repo
from vigil.api.app import vigil_context
from vigil.api.docs import documented
from vigil.api.pages import DEFAULT_PAGE, WHOLE_PAGE, CursorParam, LimitParam, array_page
from vigil.domain.channels import Channel, ChannelCreate
from vigil.domain.rules import Rule
from vigil.domain.silences import Silence

Id = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]


class BacktestIn(BaseModel):
    """A saved rule (`rule_id`) or a draft (`rule`) replayed over stored history."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    rule_id: str | None = Field(default=None, max_length=64)
    rule: dict[str, Any] | None = Field(default=None, description="A draft rule (same shape as POST)")
    from_: str = Field(default="-7d", alias="from", max_length=64, description="Start (at most 7 days back)")
    to: str = Field(default="now", max_length=64)
    step: str = Field(default="1m", max_length=16, description="Evaluation period, e.g. 1m")


def _json(status: int, body: Any) -> Response[Any]:
    return Response(status, "application/json", body)


def _subscriptions(ctx: Any) -> Any:
    from vigil.alerting.entry import subscriptions_for  # lazy: boto3 only when a topic is configured

    return subscriptions_for(ctx)


def register(app: APIGatewayHttpResolver) -> None:
    def now() -> float:
        return vigil_context(app).clock.now()

    def store() -> Any:
        return vigil_context(app).store

    @app.get(
        "/api/alerts",
        tags=["alerts"],
        summary="Firing, pending, recently resolved; history",
        responses=documented(),
    )
    def list_alerts(
        limit: Annotated[int, Query(ge=1, le=1000, description="History items per page")] = 200,
        cursor: CursorParam = None,
    ) -> dict[str, Any]:
        return repo.list_alerts(store(), history_limit=limit, cursor=cursor, now=now())

    @app.post(
        "/api/alerts/<alert_id>/ack",
        tags=["alerts"],
        summary="Acknowledge (stops repeats)",
        responses=documented(),
    )
    def ack(alert_id: Id) -> dict[str, Any]:
        return repo.acknowledge(store(), alert_id, app.context["principal"].subject, now())

    @app.get("/api/alerts/rules", tags=["rules"], summary="List rules", responses=documented())
    def list_rules(limit: LimitParam = WHOLE_PAGE, cursor: CursorParam = None) -> Response[Any]:
        return array_page(*admin.list_rules(store(), limit=limit, cursor=cursor))

    @app.post("/api/alerts/rules", tags=["rules"], summary="Create a rule", responses=documented(201))
    def create_rule(rule: Annotated[Rule, Body()]) -> Response[Any]:
        return _json(201, admin.create_rule(store(), rule.wire()))

    @app.post(
        "/api/alerts/rules/test",
        tags=["rules"],
        summary="Backtest a saved or draft rule",
        responses=documented(),
    )
    def test_rule(request: Annotated[BacktestIn, Body()]) -> dict[str, Any]:
        return admin.run_backtest(store(), request.model_dump(by_alias=True, exclude_none=True), now())

    @app.get("/api/alerts/rules/<rule_id>", tags=["rules"], summary="One rule", responses=documented())
    def get_rule(rule_id: Id) -> dict[str, Any]:
        return admin.get_rule(store(), rule_id).wire()

    @app.put("/api/alerts/rules/<rule_id>", tags=["rules"], summary="Replace a rule", responses=documented())
    def update_rule(rule_id: Id, rule: Annotated[Rule, Body()]) -> dict[str, Any]:
        return admin.update_rule(store(), rule_id, rule.wire())

    @app.delete(
        "/api/alerts/rules/<rule_id>",
        tags=["rules"],
        summary="Delete a rule (its firing alerts resolve first)",
        responses=documented(),
    )
    def delete_rule(rule_id: Id) -> dict[str, Any]:
        from vigil.alerting.entry import publisher_for  # lazy: delivery adapters load only when needed

        ctx = vigil_context(app)
        return admin.delete_rule(ctx.store, rule_id, ctx.clock.now(), publisher_for(ctx))

    @app.get(
        "/api/alerts/silences",
        tags=["silences"],
        summary="Silences and maintenance windows",
        responses=documented(),
    )
    def list_silences(limit: LimitParam = WHOLE_PAGE, cursor: CursorParam = None) -> Response[Any]:
        return array_page(*admin.list_silences(store(), now(), limit=limit, cursor=cursor))

    @app.post(
        "/api/alerts/silences",
        tags=["silences"],
        summary="Create a silence or maintenance window",
        responses=documented(201),
    )
    def create_silence(silence: Annotated[Silence, Body()]) -> Response[Any]:
        body = silence.model_dump(exclude={"id", "created_by"})
        return _json(201, admin.create_silence(store(), body, app.context["principal"].subject))

    @app.delete(
        "/api/alerts/silences/<silence_id>",
        tags=["silences"],
        summary="Delete a silence",
        responses=documented(),
    )
    def delete_silence(silence_id: Id) -> dict[str, Any]:
        admin.delete_silence(store(), silence_id)
        return {"deleted": silence_id}

    @app.get("/api/channels", tags=["channels"], summary="List channels (no secrets)", responses=documented())
    def list_channels(limit: LimitParam = WHOLE_PAGE, cursor: CursorParam = None) -> Response[Any]:
        return array_page(*admin.list_channels(store(), limit=limit, cursor=cursor))

    @app.post("/api/channels", tags=["channels"], summary="Create a channel", responses=documented(201))
    def create_channel(channel: Annotated[ChannelCreate, Body()]) -> Response[Any]:
        ctx = vigil_context(app)
        body = channel.model_dump(exclude={"id", "attach_to_defaults"})
        attach = ctx.config if channel.attach_to_defaults else None
        return _json(
            201, admin.create_channel(ctx.store, body, _subscriptions(ctx), attach_to_defaults=attach)
        )

    @app.get(
        "/api/channels/<channel_id>",
        tags=["channels"],
        summary="One channel (no secret)",
        responses=documented(),
    )
    def get_channel(channel_id: Id) -> dict[str, Any]:
        return admin.get_channel(store(), channel_id).public()

    @app.put(
        "/api/channels/<channel_id>",
        tags=["channels"],
        summary="Replace a channel (omit secret to keep it)",
        responses=documented(),
    )
    def update_channel(channel_id: Id, channel: Annotated[Channel, Body()]) -> dict[str, Any]:
        ctx = vigil_context(app)
        body = channel.model_dump(exclude_unset=True, exclude={"id"})
        return admin.update_channel(ctx.store, channel_id, body, _subscriptions(ctx))

    @app.delete(
        "/api/channels/<channel_id>", tags=["channels"], summary="Delete a channel", responses=documented()
    )
    def delete_channel(channel_id: Id) -> dict[str, Any]:
        ctx = vigil_context(app)
        admin.delete_channel(ctx.store, channel_id, _subscriptions(ctx))
        return {"deleted": channel_id}

    @app.post(
        "/api/channels/<channel_id>/test",
        tags=["channels"],
        summary="Send a test notification now",
        responses=documented(),
    )
    def test_channel(channel_id: Id) -> dict[str, Any]:
        from vigil.alerting.entry import publisher_for  # lazy: delivery adapters load only when needed

        ctx = vigil_context(app)
        return admin.send_channel_test(ctx.store, ctx.config, channel_id, ctx.clock.now(), publisher_for(ctx))

    @app.get(
        "/api/notifications",
        tags=["notifications"],
        summary="In-app inbox, newest first",
        responses=documented(),
    )
    def notifications(
        unread: Annotated[bool, Query()] = False,
        limit: LimitParam = DEFAULT_PAGE,
        cursor: CursorParam = None,
    ) -> dict[str, Any]:
        return admin.list_notifications(store(), unread_only=unread, limit=limit, cursor=cursor)

    @app.post(
        "/api/notifications/read",
        tags=["notifications"],
        summary="Mark every notification read",
        responses=documented(),
    )
    def read_all() -> dict[str, int]:
        return admin.mark_read(store(), None)

    @app.post(
        "/api/notifications/<notification_id>/read",
        tags=["notifications"],
        summary="Mark one read",
        responses=documented(),
    )
    def read_one(notification_id: Id) -> dict[str, int]:
        return admin.mark_read(store(), notification_id)
