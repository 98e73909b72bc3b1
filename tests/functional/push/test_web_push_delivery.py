"""Web Push end to end on a local Vigil: a browser subscribes through the API, samples breach a rule,
the evaluator publishes, the local dispatcher encrypts and signs, and a loopback push service verifies
the VAPID JWT and decrypts the payload with the browser's private key (real crypto throughout)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tests.webpush_receiver import PushService
from vigil.alerting.local_delivery import RETRY_KIND, LocalDispatcher, retry_due
from vigil.alerting.repo import DEAD_LETTER_KIND, DELIVERY_KIND
from vigil.alerting.service import run_evaluation
from vigil.domain.models import Point
from vigil.domain.push import SUBSCRIPTION_KIND
from vigil.local.client import GatewayClient, json_of
from vigil.wiring import AppContext

CPU = "system.cpu.utilization"


def make_rule(admin: GatewayClient, severity: str = "critical", name: str = "CPU on fire") -> str:
    body = {
        "name": name,
        "metric": CPU,
        "agg": "avg",
        "window": "2m",
        "op": ">",
        "threshold": 0.9,
        "severity": severity,
        "unit": "%",
        "display_scale": 100,
    }
    response = admin.post("/api/alerts/rules", json=body)
    assert response.status == 201, response.body
    return str(json_of(response)["id"])


def breach(ctx: AppContext, dispatcher: LocalDispatcher, value: float, at: float) -> None:
    """Two minutes of `value` on web-1 up to `at`, then one evaluator run at `at`."""
    points = [Point("web-1", CPU, (), float(ts), value) for ts in range(int(at) - 120, int(at), 10)]
    ctx.store.put_samples("web-1", points, None, at)
    report = run_evaluation(ctx.store, dispatcher, None, at)
    assert not report.failed, report.failed


def subscribe(client: GatewayClient, subscription: dict[str, Any]) -> str:
    response = client.post("/api/push/subscriptions", json=subscription)
    assert response.status == 201, response.body
    return str(json_of(response)["id"])


def test_firing_and_resolved_critical_alerts_arrive_encrypted_and_vapid_signed(
    admin: GatewayClient,
    ctx: AppContext,
    dispatcher: LocalDispatcher,
    service: PushService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    rule_id = make_rule(admin)
    subscription = service.subscribe("/push/phone")
    subscribe(admin, subscription)
    now = ctx.clock.now()

    breach(ctx, dispatcher, 0.97, now)
    breach(ctx, dispatcher, 0.10, now + 180)

    firing, resolved = service.to("/push/phone")
    print("decrypted Web Push payload:", json.dumps(firing))  # the closing note quotes it
    assert firing == {
        "title": "[FIRING] CPU on fire (host=web-1)",
        "body": "avg(system.cpu.utilization) over 2m is 97% (alert when > 90%).",
        "url": f"http://127.0.0.1:8080/#/alerts?rule={rule_id}",
        "severity": "critical",
        "status": "firing",
    }
    assert (resolved["status"], resolved["title"]) == ("resolved", "[RESOLVED] CPU on fire (host=web-1)")
    headers = service.pushes[0].headers
    assert headers["Urgency"] == "high" and headers["TTL"] == "86400"
    logged = caplog.text
    for secret in (subscription["keys"]["auth"], subscription["keys"]["p256dh"], "/push/phone"):
        assert secret not in logged
    assert "PRIVATE KEY" not in logged


def test_a_warning_is_not_pushed_to_a_default_subscription_but_is_to_one_that_asked(
    admin: GatewayClient, ctx: AppContext, dispatcher: LocalDispatcher, service: PushService
) -> None:
    make_rule(admin, severity="warning", name="CPU high")
    subscribe(admin, service.subscribe("/push/critical-only"))
    subscribe(admin, service.subscribe("/push/everything", severities=["warning", "critical"]))

    breach(ctx, dispatcher, 0.97, ctx.clock.now())

    assert service.to("/push/critical-only") == []
    (pushed,) = service.to("/push/everything")
    assert (pushed["severity"], pushed["status"]) == ("warning", "firing")


@pytest.mark.parametrize("gone", [404, 410])
def test_a_subscription_whose_push_service_says_it_is_gone_is_removed_without_a_dead_letter(
    gone: int, admin: GatewayClient, ctx: AppContext, dispatcher: LocalDispatcher, service: PushService
) -> None:
    make_rule(admin)
    stale = subscribe(admin, service.subscribe("/push/stale"))
    subscribe(admin, service.subscribe("/push/live"))
    service.answer("/push/stale", gone)

    breach(ctx, dispatcher, 0.97, ctx.clock.now())

    assert ctx.store.get_doc(SUBSCRIPTION_KIND, stale) is None
    assert len(service.to("/push/live")) == 1
    assert ctx.store.list_docs(DEAD_LETTER_KIND) == [] and ctx.store.list_docs(RETRY_KIND) == []
    (record,) = [d for d in ctx.store.list_docs(DELIVERY_KIND) if d["channel_id"] == f"push:{stale}"]
    assert record["status"] == "gone"
    assert admin.delete(f"/api/push/subscriptions/{stale}").status == 404  # already gone


def test_a_push_service_failing_with_500_gets_the_notification_once_by_retry_and_others_are_not_held(
    admin: GatewayClient, ctx: AppContext, dispatcher: LocalDispatcher, service: PushService
) -> None:
    make_rule(admin)
    subscribe(admin, service.subscribe("/push/flaky"))
    subscribe(admin, service.subscribe("/push/steady"))
    service.answer("/push/flaky", 500, 500)  # both tries of the first attempt; then 201
    now = ctx.clock.now()

    breach(ctx, dispatcher, 0.97, now)
    assert len(service.to("/push/steady")) == 1 and service.to("/push/flaky") == []
    (queued,) = ctx.store.list_docs(RETRY_KIND)
    assert "push:" in queued["reason"] and "HTTP 500" in queued["reason"]

    outcome = retry_due(ctx.store, ctx.config, queued["next_at"])

    assert list(outcome.values()) == ["delivered"]
    assert [status for path, status in service.answered if path == "/push/flaky"] == [500, 500, 201]
    assert len(service.to("/push/flaky")) == 1 and len(service.to("/push/steady")) == 1  # once each
    assert ctx.store.list_docs(RETRY_KIND) == [] and ctx.store.list_docs(DEAD_LETTER_KIND) == []


def test_a_stored_subscription_pointing_at_the_metadata_service_is_refused_at_send_time(
    admin: GatewayClient, ctx: AppContext, dispatcher: LocalDispatcher, service: PushService
) -> None:
    make_rule(admin)
    subscribe(admin, service.subscribe("/push/ok"))
    bad = service.subscribe("/push/ok2")
    forged = {  # as if written before the API checked endpoints, or straight into the store
        "id": "p-000000000000000000000bad",
        "endpoint": "http://169.254.169.254/latest/meta-data/",
        "p256dh": bad["keys"]["p256dh"],
        "auth": bad["keys"]["auth"],
        "severities": ["critical"],
    }
    ctx.store.put_doc(SUBSCRIPTION_KIND, forged["id"], forged)

    breach(ctx, dispatcher, 0.97, ctx.clock.now())

    assert len(service.to("/push/ok")) == 1
    (dead,) = ctx.store.list_docs(DEAD_LETTER_KIND)
    reason = dead["channels"][f"push:{forged['id']}"]
    assert "instance-metadata" in reason and "meta-data" not in reason
