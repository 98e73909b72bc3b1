"""E-mail through a real SMTP server (aiosmtpd), SMS and the SNS fan-out through moto, the inbox and
`deliver` with its per-channel dedupe."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from email import message_from_bytes
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from aiosmtpd.controller import Controller
from moto import mock_aws

from tests.functional.alerting.samples import sample_notification
from vigil.adapters.notify.base import NotifyContext
from vigil.adapters.notify.email import EmailNotifier
from vigil.adapters.notify.sms import SmsNotifier, sns_sms_sender
from vigil.adapters.notify.sns import SnsPublisher
from vigil.alerting.delivery import deliver, send_test
from vigil.alerting.repo import CHANNEL_KIND, DELIVERY_KIND, INBOX_KIND
from vigil.alerting.service import notification_attributes
from vigil.config import Config
from vigil.domain.alerts import Notification
from vigil.domain.channels import Channel
from vigil.domain.errors import DeliveryError

if TYPE_CHECKING:
    from conftest import Receiver

T = 1_764_000_000.0
SMTP_PASSWORD = "smtp-pass-123456"


def note(**kw: Any) -> Notification:
    return sample_notification(**{"id": "n-42", "channels": (), **kw})


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def test_email_is_delivered_over_smtp(smtp: tuple[Inbox, int], nctx: NotifyContext) -> None:
    handler, port = smtp
    nctx.smtp_url = f"smtp://127.0.0.1:{port}"
    EmailNotifier(Channel(type="email", name="ops", target="ops@example.com"), nctx).send(note())
    (envelope,) = handler.messages
    assert envelope.rcpt_tos == ["ops@example.com"]
    mail = message_from_bytes(envelope.content)
    assert mail["Subject"] == "[FIRING] High CPU (host=web-1)"
    body = mail.get_payload(decode=True).decode()
    assert (
        "CPU is 93%" in body
        and "Threshold: > 80%" in body
        and "http://vigil.test/#/alerts?rule=default-cpu" in body
    )


def test_email_to_an_smtp_server_that_is_down_is_retryable_and_redacted(nctx: NotifyContext) -> None:
    nctx.smtp_url = f"smtp://alerts:{SMTP_PASSWORD}@127.0.0.1:1"
    with pytest.raises(DeliveryError) as err:
        EmailNotifier(Channel(type="email", name="ops", target="ops@example.com"), nctx).send(note())
    assert err.value.retryable and SMTP_PASSWORD not in str(err.value)


def test_email_without_smtp_settings_is_undelivered_with_a_reason(nctx: NotifyContext) -> None:
    with pytest.raises(DeliveryError, match="VIGIL_SMTP_URL") as err:
        EmailNotifier(Channel(type="email", name="ops", target="ops@example.com"), nctx).send(note())
    assert not err.value.retryable


@mock_aws
def test_sms_is_published_to_the_phone_number_through_sns(nctx: NotifyContext) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    nctx.sms = sns_sms_sender(boto3.client("sns", region_name="us-east-1"))
    SmsNotifier(Channel(type="sms", name="on-call", target="+33612345678"), nctx).send(note())
    sent = list(sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages.values())
    assert sent == [("+33612345678", "[FIRING] High CPU (host=web-1): 93% (> 80%)")]


def test_sms_without_aws_is_recorded_as_undelivered_with_a_clear_reason(
    store: Any, alert_config: Config, nctx: NotifyContext
) -> None:
    store.put_doc(
        CHANNEL_KIND, "c-sms", Channel(id="c-sms", type="sms", name="oc", target="+33612345678").model_dump()
    )
    nctx.sms = None
    report = deliver(note(channels=("c-sms",)).to_message(), store, alert_config, context=nctx)
    assert "AWS" in report.undelivered["c-sms"]
    assert store.get_doc(DELIVERY_KIND, "n-42:c-sms")["status"] == "undelivered"


@mock_aws
def test_sns_publisher_sends_message_attributes_that_filter_policies_route_on() -> None:
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topic = sns.create_topic(Name="vigil-alerts")["TopicArn"]
    queues = {}
    for name, policy in (
        ("all", None),
        ("email-c1", {"channels": ["c1"]}),
        ("email-c9", {"channels": ["c9"]}),
    ):
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attrs = {"FilterPolicy": json.dumps(policy)} if policy else {}
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes=attrs)
        queues[name] = url
    message = note(channels=("c1", "c2")).to_message()
    SnsPublisher(topic, "http://vigil.test", client=sns).publish(message, notification_attributes(message))

    (got,) = sqs.receive_message(QueueUrl=queues["all"])["Messages"]
    envelope = json.loads(got["Body"])
    assert envelope["MessageAttributes"]["severity"] == {"Type": "String", "Value": "critical"}
    assert envelope["MessageAttributes"]["channels"]["Type"] == "String.Array"
    assert json.loads(envelope["MessageAttributes"]["channels"]["Value"]) == ["c1", "c2"]
    assert json.loads(envelope["Message"])["id"] == "n-42"  # SQS/Lambda receive the "default" JSON
    assert len(sqs.receive_message(QueueUrl=queues["email-c1"]).get("Messages", [])) == 1
    assert sqs.receive_message(QueueUrl=queues["email-c9"]).get("Messages", []) == []


def test_deliver_serves_each_channel_once_and_fills_the_inbox(
    receiver: Receiver, store: Any, alert_config: Config, nctx: NotifyContext
) -> None:
    for cid, path in (("c-a", "/a"), ("c-b", "/b")):
        store.put_doc(
            CHANNEL_KIND,
            cid,
            Channel(id=cid, type="webhook", name=cid, target=receiver.url(path)).model_dump(),
        )
    receiver.answer("/b", (400, {}))
    message = note(channels=("c-a", "c-b", "c-gone")).to_message()
    report = deliver(message, store, alert_config, context=nctx)
    assert report.delivered == ["inbox", "c-a"]
    assert set(report.undelivered) == {"c-b", "c-gone"}
    again = deliver(message, store, alert_config, context=nctx)  # SNS redelivery / evaluator re-publish
    assert again.delivered == [] and len(receiver.to("/a")) == 1 and len(receiver.to("/b")) == 1
    inbox = store.get_doc(INBOX_KIND, "n-42")
    assert inbox["title"] == "[FIRING] High CPU (host=web-1)" and inbox["read"] is False


def test_retryable_failure_raises_for_lambda_retry_and_the_retry_skips_served_channels(
    receiver: Receiver, store: Any, alert_config: Config, nctx: NotifyContext
) -> None:
    for cid, path in (("c-a", "/a"), ("c-b", "/b")):
        store.put_doc(
            CHANNEL_KIND,
            cid,
            Channel(id=cid, type="webhook", name=cid, target=receiver.url(path)).model_dump(),
        )
    nctx.http.retry = type(nctx.http.retry)(max_attempts=2)
    receiver.answer("/b", (503, {}), (503, {}))
    message = note(channels=("c-a", "c-b")).to_message()
    with pytest.raises(DeliveryError) as err:
        deliver(message, store, alert_config, context=nctx)
    assert err.value.retryable and "c-b" not in err.value.message.split(":")[0]
    report = deliver(message, store, alert_config, context=nctx)  # Lambda's async retry
    assert report.delivered == ["c-b"] and len(receiver.to("/a")) == 1 and len(receiver.to("/b")) == 3


def test_send_test_reports_success_and_failure(
    receiver: Receiver, store: Any, alert_config: Config, nctx: NotifyContext
) -> None:
    ok = Channel(type="slack", name="s", target=receiver.url("/slack-ok"))
    receiver.answer("/slack-bad", (404, {}))
    bad = Channel(type="slack", name="s", target=receiver.url("/slack-bad"))
    assert send_test(store, alert_config, ok, T, context=nctx) == {"ok": True}
    result = send_test(store, alert_config, bad, T, context=nctx)
    assert result["ok"] is False and "HTTP 404" in result["reason"] and "/slack-bad" not in result["reason"]
