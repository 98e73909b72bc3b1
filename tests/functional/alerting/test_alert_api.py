"""The alerting API through the real local gateway: rules CRUD and backtest, silences, channels
without secrets, alerts + ack, the inbox; and the scheduled evaluation over pushed samples."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import FrozenClock
from vigil.alerting.entry import evaluate_now
from vigil.local.client import GatewayClient, json_of
from vigil.wiring import AppContext

if TYPE_CHECKING:
    from conftest import Receiver

RULE: dict[str, Any] = {
    "name": "Hot CPU",
    "metric": "system.cpu.utilization",
    "window": "1m",
    "op": ">",
    "threshold": 0.8,
    "for": "0s",
    "severity": "critical",
}


T0 = 1_764_000_000.0


@pytest.fixture
def clock() -> FrozenClock:
    """Alerting tests step time from a fixed start (the shared `ctx` and `admin` fixtures use it)."""
    return FrozenClock(T0)


@pytest.fixture
def app_ctx(ctx: AppContext) -> AppContext:
    return ctx


def request(client: GatewayClient, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    response = client.request(method, path, json=body) if body is not None else client.request(method, path)
    return response.status, json_of(response) if response.body else None


def test_rules_crud_validates_and_names_the_field(admin: GatewayClient) -> None:
    status, created = request(admin, "POST", "/api/alerts/rules", RULE)
    assert status == 201 and created["window"] == 60.0 and created["for"] == 0.0
    rid = created["id"]
    status, err = request(admin, "POST", "/api/alerts/rules", {**RULE, "window": "soon"})
    assert status == 400 and err["error"]["field"] == "window"
    status, err = request(admin, "POST", "/api/alerts/rules", {**RULE, "threshold": False})
    assert status == 400 and err["error"]["field"] == "threshold"
    status, err = request(admin, "POST", "/api/alerts/rules", RULE)
    assert status == 409 and err["error"]["field"] == "name"
    status, updated = request(admin, "PUT", f"/api/alerts/rules/{rid}", {**RULE, "threshold": 0.9})
    assert status == 200 and updated["threshold"] == 0.9 and updated["id"] == rid
    assert [r["id"] for r in request(admin, "GET", "/api/alerts/rules")[1]] == [rid]
    assert request(admin, "DELETE", f"/api/alerts/rules/{rid}")[0] == 200
    assert request(admin, "GET", f"/api/alerts/rules/{rid}")[0] == 404


def test_a_forecast_rule_is_refused_naming_forecast_unless_its_agg_and_window_allow_it(
    admin: GatewayClient,
) -> None:
    for bad in ({"agg": "count", "window": "12h"}, {"agg": "avg", "window": "1h"}):
        status, err = request(admin, "POST", "/api/alerts/rules", {**RULE, **bad, "forecast": "7d"})
        assert status == 400 and err["error"]["field"] == "forecast"
    assert request(admin, "GET", "/api/alerts/rules")[1] == []  # nothing half-written
    status, created = request(admin, "POST", "/api/alerts/rules", {**RULE, "window": "6h", "forecast": "7d"})
    assert status == 201 and created["forecast"] == 7 * 86400.0 and created["condition"] == "threshold"


def test_channels_never_echo_secrets(admin: GatewayClient) -> None:
    secret = "whsec-api-0123456789"
    status, created = request(
        admin,
        "POST",
        "/api/channels",
        {"type": "webhook", "name": "hook", "target": "https://hooks.example.com/abc/def", "secret": secret},
    )
    assert status == 201 and created["has_secret"] is True
    cid = created["id"]
    listed = admin.request("GET", "/api/channels")
    one = admin.request("GET", f"/api/channels/{cid}")
    for response in (listed, one):
        assert secret not in response.body.decode() and "/abc/def" not in response.body.decode()
    status, kept = request(
        admin,
        "PUT",
        f"/api/channels/{cid}",
        {"type": "webhook", "name": "renamed", "target": "https://hooks.example.com/abc/def"},
    )
    assert status == 200 and kept["has_secret"] is True and kept["name"] == "renamed"
    status, err = request(admin, "POST", "/api/channels", {"type": "sms", "name": "x", "target": "12"})
    assert status == 400 and err["error"]["field"] == "target"


def test_channel_test_send_reaches_a_loopback_receiver_in_local_mode(
    admin: GatewayClient, receiver: Receiver
) -> None:
    _, created = request(
        admin,
        "POST",
        "/api/channels",
        {"type": "slack", "name": "s", "target": receiver.url("/services/T/B/x")},
    )
    status, result = request(admin, "POST", f"/api/channels/{created['id']}/test")
    assert (status, result) == (200, {"ok": True})
    assert len(receiver.to("/services/T/B/x")) == 1


def test_silences_can_be_created_listed_and_deleted(admin: GatewayClient, app_ctx: AppContext) -> None:
    body = {
        "matchers": [{"name": "host", "value": "web-1"}],
        "starts_at": app_ctx.clock.now() - 60,
        "ends_at": app_ctx.clock.now() + 3600,
        "comment": "deploy",
    }
    status, created = request(admin, "POST", "/api/alerts/silences", body)
    assert status == 201 and created["created_by"]
    (listed,) = request(admin, "GET", "/api/alerts/silences")[1]
    assert listed["active"] is True and listed["comment"] == "deploy"
    status, _ = request(admin, "POST", "/api/alerts/silences", {**body, "ends_at": body["starts_at"] - 1})
    assert status == 400
    assert request(admin, "DELETE", f"/api/alerts/silences/{created['id']}")[0] == 200
    assert request(admin, "GET", "/api/alerts/silences")[1] == []


def test_evaluation_fires_fills_the_inbox_and_an_alert_can_be_acknowledged(
    admin: GatewayClient, app_ctx: AppContext
) -> None:
    from vigil.domain.models import Point

    request(admin, "POST", "/api/alerts/rules", RULE)
    now = app_ctx.clock.now()
    app_ctx.store.put_samples(
        "web-1", [Point("web-1", "system.cpu.utilization", (), now - 5, 0.97)], None, now
    )
    report = evaluate_now(app_ctx)
    assert report.failed == {} and len(report.published) >= 1
    alerts = request(admin, "GET", "/api/alerts")[1]
    firing = [a for a in alerts["firing"] if a["rule_id"] != "default-cpu"]
    assert [a["labels"] for a in firing if a["status"] == "firing"][:1] == [{"host": "web-1"}]
    inbox = json_of(admin.get("/api/notifications", params={"unread": "true"}))
    assert inbox["unread"] >= 1 and inbox["items"][0]["status"] == "firing"
    nid = inbox["items"][0]["id"]
    assert request(admin, "POST", f"/api/notifications/{nid}/read")[1] == {"marked": 1}
    assert request(admin, "POST", f"/api/alerts/{firing[0]['id']}/ack")[1]["acked_by"]
    assert request(admin, "POST", "/api/alerts/nope/ack")[0] == 404


def test_backtest_of_a_draft_rule_counts_fires_over_stored_history(
    admin: GatewayClient, app_ctx: AppContext
) -> None:
    from vigil.domain.models import Point

    now = app_ctx.clock.now()
    points = [
        Point("web-1", "system.cpu.utilization", (), now - 3600 + m * 60, 0.95 if 10 <= m < 20 else 0.1)
        for m in range(60)
    ]
    app_ctx.store.put_samples("web-1", points, None, now)
    status, result = request(
        admin, "POST", "/api/alerts/rules/test", {"rule": RULE, "from": "-1h", "step": "1m"}
    )
    assert status == 200 and result["fired"] == 1 and result["notifications"] == 2
    status, err = request(admin, "POST", "/api/alerts/rules/test", {"rule": {**RULE, "op": "=>"}})
    assert status == 400 and err["error"]["field"] == "rule.op"


def test_a_firing_alert_matched_by_an_active_silence_is_marked_silenced(
    admin: GatewayClient, app_ctx: AppContext
) -> None:
    from vigil.domain.models import Point

    rule = request(admin, "POST", "/api/alerts/rules", RULE)[1]
    now = app_ctx.clock.now()
    points = [Point(h, "system.cpu.utilization", (), now - 5, 0.97) for h in ("web-1", "web-2")]
    for p in points:
        app_ctx.store.put_samples(p.host, [p], None, now)
    evaluate_now(app_ctx)
    silence = {
        "matchers": [{"name": "rule_id", "value": rule["id"]}, {"name": "host", "value": "web-1"}],
        "starts_at": now - 60,
        "ends_at": now + 3600,
    }
    created = request(admin, "POST", "/api/alerts/silences", silence)[1]
    firing = {
        a["labels"]["host"]: a
        for a in request(admin, "GET", "/api/alerts")[1]["firing"]
        if a["rule_id"] == rule["id"]
    }
    assert firing["web-1"]["silenced_by"] == created["id"]
    assert "silenced_by" not in firing["web-2"]
