"""Deleting a rule closes its incidents: the receiver gets the resolve notice for each firing alert
before the rule goes (through the HTTP API, a real loopback receiver), a pruning `rules apply` does
the same, and a resolve notice whose publish failed goes out on the next evaluation tick, once."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import FrozenClock
from vigil.alerting.admin import apply_rules_yaml
from vigil.alerting.entry import evaluate_now
from vigil.alerting.repo import HISTORY_KIND, OUT_KIND, STATE_KIND, load_rules, save_rule
from vigil.alerting.service import retire_rule, run_evaluation
from vigil.domain.models import Point
from vigil.domain.rules import Rule
from vigil.local.client import GatewayClient, json_of
from vigil.wiring import AppContext

if TYPE_CHECKING:
    from conftest import Receiver

T0 = 1_764_000_000.0


@pytest.fixture
def clock() -> FrozenClock:
    """Alerting tests step time from a fixed start (the shared `ctx` and `admin` fixtures use it)."""
    return FrozenClock(T0)


@pytest.fixture
def app_ctx(ctx: AppContext) -> AppContext:
    return ctx


def push_cpu(store: Any, hosts: tuple[str, ...], value: float) -> None:
    for host in hosts:
        points = [
            Point(host, "system.cpu.utilization", (), float(ts), value)
            for ts in range(int(T0 - 60), int(T0), 10)
        ]
        store.put_samples(host, points, None, T0)


def hot_rule(admin: GatewayClient, receiver: Receiver) -> str:
    channel = {"type": "webhook", "name": "hook", "target": receiver.url("/hook"), "secret": "x" * 16}
    cid = json_of(admin.request("POST", "/api/channels", json=channel))["id"]
    rule = {"name": "Hot CPU", "metric": "system.cpu.utilization", "window": "1m", "op": ">",
            "threshold": 0.8, "channels": [cid]}  # fmt: skip
    response = admin.request("POST", "/api/alerts/rules", json=rule)
    assert response.status == 201, response.body
    return str(json_of(response)["id"])


def statuses(receiver: Receiver) -> list[tuple[str, str]]:
    return [(b["status"], b["group"]["host"]) for b in (json.loads(r.body) for r in receiver.to("/hook"))]


def test_deleting_a_rule_sends_the_resolve_notice_for_each_firing_alert(
    app_ctx: AppContext, admin: GatewayClient, receiver: Receiver
) -> None:
    rule_id = hot_rule(admin, receiver)
    push_cpu(app_ctx.store, ("web-1", "web-2"), 0.95)
    evaluate_now(app_ctx, T0)
    assert sorted(statuses(receiver)) == [("firing", "web-1"), ("firing", "web-2")]

    app_ctx.clock.t = T0 + 5  # type: ignore[attr-defined]
    response = admin.request("DELETE", f"/api/alerts/rules/{rule_id}")
    assert response.status == 200
    assert json_of(response) == {"deleted": rule_id, "resolved": 2, "notified": 2}
    assert sorted(statuses(receiver)[2:]) == [("resolved", "web-1"), ("resolved", "web-2")]
    resolved = json.loads(receiver.to("/hook")[-1].body)
    assert resolved["resolved_at"] == "2025-11-24T16:00:05.000Z"
    assert admin.request("GET", f"/api/alerts/rules/{rule_id}").status == 404
    alerts = json_of(admin.request("GET", "/api/alerts"))
    assert [a for s in ("firing", "pending", "resolved") for a in alerts[s] if a["rule_id"] == rule_id] == []
    assert [h["to"] for h in alerts["history"] if h["rule_id"] == rule_id].count("resolved") == 2

    evaluate_now(app_ctx, T0 + 10)  # the next tick says nothing more about it
    assert len(receiver.to("/hook")) == 4
    assert app_ctx.store.get_doc(STATE_KIND, rule_id) is None


def test_deleting_a_rule_without_firing_alerts_sends_nothing(
    app_ctx: AppContext, admin: GatewayClient, receiver: Receiver
) -> None:
    rule_id = hot_rule(admin, receiver)
    push_cpu(app_ctx.store, ("web-1",), 0.2)
    evaluate_now(app_ctx, T0)
    assert json_of(admin.request("DELETE", f"/api/alerts/rules/{rule_id}"))["notified"] == 0
    assert receiver.to("/hook") == []


class FlakyPublisher:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.messages: list[dict[str, Any]] = []

    def publish(self, message: dict[str, Any], attributes: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("SNS unreachable")
        self.messages.append(message)


def test_a_resolve_notice_that_failed_to_publish_goes_out_on_the_next_tick_once(app_ctx: AppContext) -> None:
    store = app_ctx.store
    rule = Rule(id="hot", name="Hot", metric="system.cpu.utilization", window=60, op=">", threshold=0.8)
    save_rule(store, rule)
    push_cpu(store, ("web-1",), 0.95)
    publisher = FlakyPublisher(failures=0)
    run_evaluation(store, publisher, None, T0)
    publisher.failures = 1
    report = retire_rule(store, publisher, rule, T0 + 5)
    assert report.publish_failures and load_rules(store) == []
    assert store.get_doc(STATE_KIND, "hot") is not None  # kept: its outbox holds the resolve notice

    run_evaluation(store, publisher, None, T0 + 10)
    run_evaluation(store, publisher, None, T0 + 20)
    assert [(m["kind"], m["group"]["host"]) for m in publisher.messages] == [
        ("firing", "web-1"),
        ("resolved", "web-1"),
    ]
    assert store.get_doc(STATE_KIND, "hot") is None
    assert [d["kind"] for d in store.list_docs(OUT_KIND)].count("resolved") == 1


def test_pruning_rules_apply_resolves_the_pruned_rules_alerts(app_ctx: AppContext) -> None:
    store = app_ctx.store
    save_rule(
        store, Rule(id="hot", name="Hot", metric="system.cpu.utilization", window=60, op=">", threshold=0.8)
    )
    push_cpu(store, ("web-1",), 0.95)
    publisher = FlakyPublisher(failures=0)
    run_evaluation(store, publisher, None, T0)
    plan = apply_rules_yaml(store, "rules: []\n", prune=True, now=T0 + 5, publisher=publisher)
    assert [r.name for r in plan.delete] == ["Hot"]
    assert [m["kind"] for m in publisher.messages] == ["firing", "resolved"]
    assert [h["to"] for h in store.list_docs(HISTORY_KIND)].count("resolved") == 1
