"""AWS fan-out on moto: e-mail and SMS channels created through `POST /api/channels` become
subscriptions of the alerts topic filtered on their channel id (and go away with the channel); the
notify function, fed the SNS event moto delivers, retries a receiver that answers 500 inside the
Lambda's remaining time and then raises so Lambda's retry and DLQ keep the message, and the retry
skips the channels already served."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from vigil.adapters.notify.sns import SnsPublisher
from vigil.alerting import entry
from vigil.alerting.entry import scheduled_evaluation
from vigil.alerting.notify_entry import notify_handler
from vigil.alerting.repo import CHANNEL_KIND, DELIVERY_KIND
from vigil.alerting.service import notification_attributes
from vigil.api import alert_routes
from vigil.api.lambda_entry import lambda_handler
from vigil.config import Config
from vigil.domain.alerts import Notification
from vigil.domain.channels import Channel
from vigil.domain.errors import DeliveryError
from vigil.local.client import GatewayClient, json_of
from vigil.local.gateway import Gateway
from vigil.wiring import AppContext, bind

if TYPE_CHECKING:
    from conftest import Receiver

ADMIN_TOKEN = "va_aws-fanout-admin"
REGION = "us-east-1"


@dataclass
class Aws:
    sns: Any
    sqs: Any
    topic: str
    ctx: AppContext
    admin: GatewayClient


@pytest.fixture
def aws(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    entry._sns_subscriptions.cache_clear()  # clients must be built inside this mock
    entry._sns_publisher.cache_clear()
    with mock_aws():
        sns = boto3.client("sns", region_name=REGION)
        topic = sns.create_topic(Name="vigil-alerts")["TopicArn"]
        config = Config(
            data_dir=tmp_path / "data",
            admin_token=ADMIN_TOKEN,
            alerts_topic_arn=topic,
            public_url="https://vigil.test",
        )
        ctx = AppContext(config)
        handler = lambda_handler("alerts", (alert_routes.register,), scheduled=scheduled_evaluation)
        admin = GatewayClient(Gateway(ctx, handlers={"alerts": handler}), token=ADMIN_TOKEN)
        yield Aws(sns, boto3.client("sqs", region_name=REGION), topic, ctx, admin)
        ctx.store.close()
    entry._sns_subscriptions.cache_clear()
    entry._sns_publisher.cache_clear()


def subscriptions(aws: Aws) -> dict[str, dict[str, str]]:
    """Endpoint → attributes of every subscription of the topic."""
    out = {}
    for sub in aws.sns.list_subscriptions_by_topic(TopicArn=aws.topic)["Subscriptions"]:
        attrs = aws.sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
        out[sub["Endpoint"]] = {"protocol": sub["Protocol"], **attrs}
    return out


def probe_queue(aws: Aws, name: str, filter_policy: str) -> str:
    """An SQS subscription with the given filter policy: shows what SNS routes to that policy."""
    url = aws.sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.sns.subscribe(
        TopicArn=aws.topic, Protocol="sqs", Endpoint=arn, Attributes={"FilterPolicy": filter_policy}
    )
    return str(url)


def note(channels: tuple[str, ...], nid: str = "n-aws-1") -> Notification:
    return Notification(
        id=nid,
        kind="firing",
        status="firing",
        rule_id="default-cpu",
        rule_name="High CPU",
        severity="warning",
        group={"host": "web-1"},
        value=0.93,
        threshold=0.8,
        op=">",
        started_at=1_764_000_000.0,
        resolved_at=None,
        channels=channels,
        message="avg(system.cpu.utilization) over 5m is 93%",
        created_at=1_764_000_000.0,
        unit="%",
        display_scale=100.0,
    )


def test_email_and_sms_channels_become_topic_subscriptions_filtered_on_their_id(aws: Aws) -> None:
    created = {}
    for kind, target in (("email", "ops@example.com"), ("sms", "+33612345678")):
        response = aws.admin.request(
            "POST", "/api/channels", json={"type": kind, "name": kind, "target": target}
        )
        assert response.status == 201, response.body
        created[kind] = json_of(response)["id"]
    subs = subscriptions(aws)
    assert subs["ops@example.com"]["protocol"] == "email"
    assert subs["+33612345678"]["protocol"] == "sms"
    assert json.loads(subs["ops@example.com"]["FilterPolicy"]) == {"channels": [created["email"]]}
    assert json.loads(subs["+33612345678"]["FilterPolicy"]) == {"channels": [created["sms"]]}

    # SNS routes a notification to exactly the subscriptions of the channels it lists:
    queues = {kind: probe_queue(aws, kind, subs[t]["FilterPolicy"]) for kind, t in
              (("email", "ops@example.com"), ("sms", "+33612345678"))}  # fmt: skip
    message = note((created["email"], "c-slack")).to_message()
    SnsPublisher(aws.topic, "https://vigil.test", client=aws.sns).publish(
        message, notification_attributes(message)
    )
    (got,) = aws.sqs.receive_message(QueueUrl=queues["email"])["Messages"]
    assert json.loads(json.loads(got["Body"])["Message"])["id"] == "n-aws-1"
    assert aws.sqs.receive_message(QueueUrl=queues["sms"]).get("Messages", []) == []


def test_changing_or_deleting_a_channel_moves_or_removes_its_subscription(aws: Aws) -> None:
    body = {"type": "email", "name": "ops", "target": "ops@example.com"}
    cid = json_of(aws.admin.request("POST", "/api/channels", json=body))["id"]
    assert set(subscriptions(aws)) == {"ops@example.com"}

    moved = aws.admin.request("PUT", f"/api/channels/{cid}", json={**body, "target": "oncall@example.com"})
    assert moved.status == 200, moved.body
    assert set(subscriptions(aws)) == {"oncall@example.com"}

    aws.admin.request(
        "PUT", f"/api/channels/{cid}", json={**body, "target": "oncall@example.com", "enabled": False}
    )
    assert subscriptions(aws) == {}  # a disabled channel receives nothing

    aws.admin.request("PUT", f"/api/channels/{cid}", json={**body, "target": "oncall@example.com"})
    assert set(subscriptions(aws)) == {"oncall@example.com"}
    assert aws.admin.request("DELETE", f"/api/channels/{cid}").status == 200
    assert subscriptions(aws) == {}


def test_webhook_channels_are_not_subscribed_in_aws(aws: Aws) -> None:
    body = {"type": "webhook", "name": "hook", "target": "https://hooks.example.com/x"}
    assert aws.admin.request("POST", "/api/channels", json=body).status == 201
    assert subscriptions(aws) == {}  # the notify function serves it


class LambdaContext:
    """The part of Lambda's context the notify function reads: a real countdown."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - time.monotonic()) * 1000)


def sns_event(aws: Aws, message: dict[str, Any]) -> dict[str, Any]:
    """The event Lambda gets from SNS, built from what moto's SNS actually delivers."""
    url = probe_queue(aws, "notify", json.dumps({"severity": ["info", "warning", "critical"]}))
    SnsPublisher(aws.topic, "https://vigil.test", client=aws.sns).publish(
        message, notification_attributes(message)
    )
    (got,) = aws.sqs.receive_message(QueueUrl=url)["Messages"]
    envelope = json.loads(got["Body"])
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{aws.topic}:notify",
                "Sns": envelope,
            }
        ]
    }


def test_notify_retries_a_failing_receiver_then_raises_and_the_retry_skips_served_channels(
    aws: Aws, receiver: Receiver
) -> None:
    store = aws.ctx.store
    for cid, path in (("c-ok", "/ok"), ("c-down", "/down")):
        channel = Channel(id=cid, type="webhook", name=cid, target=receiver.url(path), secret="s" * 16)
        store.put_doc(CHANNEL_KIND, cid, channel.model_dump())
    receiver.answer("/down", *[(500, {})] * 10)
    event = sns_event(aws, note(("c-ok", "c-down", "c-mail")).to_message())
    # 10 s of Lambda time - 3 s safety margin: attempts at 0 s, 0.5 s and 1.5 s; a 4th (after a 2 s
    # wait plus a 5 s request timeout) would not fit, so it gives up and raises.
    with bind(aws.ctx), pytest.raises(DeliveryError) as failure:
        notify_handler(event, LambdaContext(10.0))
    assert failure.value.retryable and "gave up after 3 attempts" in failure.value.message
    assert len(receiver.to("/down")) == 3 and len(receiver.to("/ok")) == 1
    assert (store.get_doc(DELIVERY_KIND, "n-aws-1:c-down") or {})["status"] == "retrying"

    receiver.script["/down"] = []  # the target is back when Lambda retries the event
    with bind(aws.ctx):
        assert notify_handler(event, LambdaContext(10.0)) == {"delivered": 1}
    assert len(receiver.to("/down")) == 4 and len(receiver.to("/ok")) == 1  # served once each
    assert (store.get_doc(DELIVERY_KIND, "n-aws-1:c-down") or {})["status"] == "delivered"


NOTIFY_POLICY = json.dumps({"kind": [{"anything-but": ["test"]}]})  # infra/alerting.py's NOT_A_TEST


@pytest.mark.parametrize(("kind", "target"), [("email", "ops@example.com"), ("sms", "+33612345678")])
def test_send_test_for_an_email_or_sms_channel_goes_through_its_sns_subscription_only(
    aws: Aws, kind: str, target: str
) -> None:
    cid = json_of(
        aws.admin.request("POST", "/api/channels", json={"type": kind, "name": kind, "target": target})
    )["id"]
    other = json_of(
        aws.admin.request(
            "POST", "/api/channels", json={"type": "email", "name": "other", "target": "x@example.com"}
        )
    )["id"]
    subs = subscriptions(aws)
    mine = probe_queue(aws, "mine", subs[target]["FilterPolicy"])
    theirs = probe_queue(aws, "theirs", subs["x@example.com"]["FilterPolicy"])
    notify = probe_queue(aws, "notify", NOTIFY_POLICY)

    response = aws.admin.request("POST", f"/api/channels/{cid}/test")
    assert response.status == 200, response.body
    assert json_of(response)["ok"] is True and json_of(response)["via"] == "sns"
    (got,) = aws.sqs.receive_message(QueueUrl=mine)["Messages"]
    envelope = json.loads(got["Body"])
    assert envelope["MessageAttributes"]["kind"]["Value"] == "test"
    assert json.loads(envelope["Message"])["channels"] == [cid]
    # Nobody else hears the test: not another channel, not the notify function (so no inbox entry).
    assert aws.sqs.receive_message(QueueUrl=theirs).get("Messages", []) == []
    assert aws.sqs.receive_message(QueueUrl=notify).get("Messages", []) == []
    assert other != cid


def test_a_poison_sns_record_becomes_a_dead_letter_in_the_notify_function_and_is_logged_as_json(
    tmp_path: Any,
) -> None:
    import os
    import subprocess
    import sys

    script = """
import json, sys
sys.path.insert(0, "functions/notify")
from handler import handler
class Context:
    aws_request_id = "req-123"
    def get_remaining_time_in_millis(self):
        return 10000
event = {"Records": [{"Sns": {"MessageId": "m-1", "Message": json.dumps({"id": "n-bad", "kind": "firing"})}}]}
print(json.dumps(handler(event, Context())))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env.update(
        AWS_LAMBDA_FUNCTION_NAME="vigil-notify", VIGIL_DATA_DIR=str(tmp_path), POWERTOOLS_LOG_LEVEL="INFO"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    (logged,) = [line for line in lines if "dead letter" in str(line.get("message", ""))]
    assert logged["service"] == "vigil-notify" and logged["request_id"] == "req-123"
    assert lines[-1] == {"delivered": 0}
    from vigil.adapters.store.sqlite import SqliteStore
    from vigil.alerting.repo import DEAD_LETTER_KIND

    store = SqliteStore(tmp_path / "vigil.sqlite3", 7 * 86400.0)
    try:
        assert "TypeError" in (store.get_doc(DEAD_LETTER_KIND, "n-bad") or {})["reason"]
    finally:
        store.close()
