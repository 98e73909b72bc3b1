"""The evaluation run end to end on a real SQLite store: pushed samples → default rule → outbox →
local dispatcher → webhook receiver; crash safety; silences; acknowledgement; backtest."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from vigil.adapters.notify.base import NotifyContext
from vigil.adapters.notify.webhook import SIGNATURE_HEADER, verify_signature
from vigil.alerting.backtest import backtest
from vigil.alerting.local_delivery import LocalDispatcher
from vigil.alerting.ports import Attributes
from vigil.alerting.repo import (
    CHANNEL_KIND,
    HISTORY_KIND,
    OUT_KIND,
    SILENCE_KIND,
    acknowledge,
    ensure_default_rules,
    list_alerts,
    load_rules,
    save_rule,
)
from vigil.alerting.service import run_evaluation
from vigil.config import Config
from vigil.domain.channels import Channel
from vigil.domain.errors import NotFound
from vigil.domain.models import Point
from vigil.domain.rules import Rule
from vigil.domain.silences import Silence

if TYPE_CHECKING:
    from conftest import Receiver

T0 = 1_764_000_000.0
SECRET = "whsec-pipeline-000000"


def push_cpu(store: Any, host: str, start: float, stop: float, value: float) -> None:
    points = [Point(host, "system.cpu.utilization", (), ts, value) for ts in range(int(start), int(stop), 10)]
    store.put_samples(host, points, None, stop)


class Recorder:
    """A publisher that records, optionally failing on its first call."""

    def __init__(self, fail_first: BaseException | None = None) -> None:
        self.fail_first = fail_first
        self.messages: list[dict[str, Any]] = []
        self.attributes: list[Attributes] = []

    def publish(self, message: dict[str, Any], attributes: Attributes) -> None:
        if self.fail_first is not None:
            exc, self.fail_first = self.fail_first, None
            raise exc
        self.messages.append(message)
        self.attributes.append(attributes)


class ProcessKilled(BaseException):
    """Stands in for the process dying mid-run (not an `Exception`, so nothing catches it)."""


@pytest.fixture
def cpu_rule(store: Any, alert_config: Config, receiver: Receiver) -> Rule:
    store.put_doc(
        CHANNEL_KIND,
        "c-hook",
        Channel(
            id="c-hook", type="webhook", name="hook", target=receiver.url("/hook"), secret=SECRET
        ).model_dump(),
    )
    ensure_default_rules(store, alert_config)
    rule = next(r for r in load_rules(store) if r.id == "default-cpu").model_copy(
        update={"channels": ["c-hook"]}
    )
    save_rule(store, rule)
    return rule


def test_default_cpu_rule_fires_on_pushed_samples_then_resolves(
    store: Any, alert_config: Config, receiver: Receiver, nctx: NotifyContext, cpu_rule: Rule
) -> None:
    dispatcher = LocalDispatcher(store, alert_config, context_factory=lambda: nctx)
    push_cpu(store, "web-1", T0 - 300, T0, 0.95)
    report = run_evaluation(store, dispatcher, None, T0)
    assert len(report.published) == 1 and not report.failed
    (req,) = receiver.to("/hook")
    body = json.loads(req.body)
    assert (body["status"], body["rule"]["id"], body["group"], body["value"]) == (
        "firing",
        "default-cpu",
        {"host": "web-1"},
        0.95,
    )
    assert verify_signature(SECRET, req.headers[SIGNATURE_HEADER], req.body, now=nctx.clock())
    alerts = list_alerts(store)
    assert [a["rule_id"] for a in alerts["firing"]] == ["default-cpu"]

    run_evaluation(store, dispatcher, None, T0 + 60)  # still firing: nothing new
    assert len(receiver.to("/hook")) == 1

    push_cpu(store, "web-1", T0 + 60, T0 + 420, 0.10)
    run_evaluation(store, dispatcher, None, T0 + 420)
    resolved = json.loads(receiver.to("/hook")[1].body)
    assert resolved["status"] == "resolved" and resolved["resolved_at"] == "2025-11-24T16:07:00.000Z"
    history = sorted(
        (h for h in store.list_docs(HISTORY_KIND) if h["rule_id"] == "default-cpu"), key=lambda h: h["at"]
    )
    assert [h["to"] for h in history] == ["firing", "resolved"]
    # Two pushes establish no reporting cadence: "host not reporting" stays quiet (the host is stale).
    assert not any(h["rule_id"] == "default-host-down" for h in store.list_docs(HISTORY_KIND))
    assert [a["rule_id"] for a in list_alerts(store)["resolved"]] == ["default-cpu"]


@pytest.mark.parametrize("failure", [RuntimeError("SNS is down"), ProcessKilled()])
def test_crash_between_evaluate_and_publish_publishes_exactly_once_on_the_next_run(
    store: Any, cpu_rule: Rule, failure: BaseException
) -> None:
    push_cpu(store, "web-1", T0 - 300, T0 + 120, 0.95)
    publisher = Recorder(fail_first=failure)
    if isinstance(failure, Exception):
        report = run_evaluation(store, publisher, None, T0)
        assert list(report.publish_failures.values()) == ["RuntimeError"]
    else:
        with pytest.raises(ProcessKilled):
            run_evaluation(store, publisher, None, T0)
    assert publisher.messages == []
    run_evaluation(store, publisher, None, T0 + 60)
    run_evaluation(store, publisher, None, T0 + 120)
    assert [m["kind"] for m in publisher.messages] == ["firing"]
    assert publisher.attributes[0] == {
        "severity": "warning",
        "status": "firing",
        "kind": "firing",
        "channels": ["c-hook"],
    }
    assert store.get_doc(OUT_KIND, publisher.messages[0]["id"]) is not None


def test_stored_silence_mutes_notifications_but_alert_state_and_history_are_kept(
    store: Any, cpu_rule: Rule
) -> None:
    silence = Silence(matchers=[{"name": "host", "value": "web-1"}], starts_at=T0 - 60, ends_at=T0 + 3600)
    store.put_doc(SILENCE_KIND, silence.id, silence.model_dump())
    push_cpu(store, "web-1", T0 - 300, T0, 0.95)
    publisher = Recorder()
    run_evaluation(store, publisher, None, T0)
    assert publisher.messages == []
    assert [a["host"] if "host" in a else a["labels"]["host"] for a in list_alerts(store)["firing"]] == [
        "web-1"
    ]
    (entry,) = store.list_docs(HISTORY_KIND)
    assert entry["to"] == "firing" and entry["muted"] is True


def test_acknowledged_alert_is_not_repeated(store: Any, cpu_rule: Rule) -> None:
    save_rule(store, cpu_rule.model_copy(update={"repeat_interval": 600.0}))
    push_cpu(store, "web-1", T0 - 300, T0 + 1300, 0.95)
    publisher = Recorder()
    run_evaluation(store, publisher, None, T0)
    (alert,) = list_alerts(store)["firing"]
    acknowledge(store, alert["id"], "admin", T0 + 30)
    run_evaluation(store, publisher, None, T0 + 1200)
    assert [m["kind"] for m in publisher.messages] == ["firing"]
    with pytest.raises(NotFound):
        acknowledge(store, "no-such-alert", "admin", T0)


def test_backtest_replays_stored_history_and_counts_notifications(store: Any) -> None:
    # Two busy hours in a day of one-minute samples.
    points = [
        Point(
            "web-1",
            "system.cpu.utilization",
            (),
            T0 + m * 60,
            0.95 if 60 <= m < 120 or 600 <= m < 660 else 0.2,
        )
        for m in range(1440)
    ]
    store.put_samples("web-1", points, None, T0 + 86400)
    rule = Rule(name="cpu", metric="system.cpu.utilization", window="5m", threshold=0.8, **{"for": "5m"})
    fetched = list(store.query_points(rule.metric, T0 - rule.window, T0 + 86400, now=T0 + 86400))
    result = backtest(rule, fetched, T0, T0 + 86400, 60).to_json()
    assert result["fired"] == 2 and result["notifications"] == 4
    assert result["notifications_by_kind"] == {"firing": 2, "resolved": 2}
    # The 5-minute average crosses 0.8 once the window is all busy (17:04), then `for` holds 5 minutes.
    first = result["incidents"][0]
    assert (first["fired_at"], first["resolved_at"]) == (
        "2025-11-24T17:09:00.000Z",
        "2025-11-24T18:00:00.000Z",
    )
