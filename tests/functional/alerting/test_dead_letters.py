"""Poison and undeliverable notifications: bounded attempts with back-off, then a dead letter with the
reason; a poison message is dead-lettered at once and never delays the next; a rule name with a
newline still reaches e-mail (subject on one line); dead letters are listed page by page through the
real alerts handler, replayed once the target is fixed (API, and `vigil notifications replay` as a
subprocess, locally and over HTTP), imported from the notify function's SQS DLQ in AWS (moto), and
forgotten after their retention."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from tests.functional.alerting.samples import sample_notification
from tests.functional.alerting.test_delivery_channels import Inbox, smtp  # noqa: F401 (fixture)
from vigil.adapters.notify.base import NotifyContext
from vigil.adapters.notify.http import Deadline, HttpClient, RetryPolicy
from vigil.adapters.notify.sns import SnsPublisher
from vigil.adapters.notify.ssrf import WebhookPolicy
from vigil.alerting import dead_letters, entry
from vigil.alerting.local_delivery import RETRY_KIND, LocalDispatcher, retry_due
from vigil.alerting.repo import CHANNEL_KIND, DEAD_LETTER_KIND, DELIVERY_KIND
from vigil.alerting.service import notification_attributes
from vigil.config import Config
from vigil.domain.channels import Channel
from vigil.local.client import GatewayClient, json_of
from vigil.local.server import LocalServer
from vigil.wiring import AppContext

if TYPE_CHECKING:
    from conftest import Receiver

T = 1_764_000_000.0


class Clock:
    def __init__(self, t: float = T) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def context(store: Any, clock: Clock, **kw: Any) -> NotifyContext:
    http = HttpClient(
        WebhookPolicy(https_only=False, allow_loopback=True),
        Deadline.after(10.0),
        retry=RetryPolicy(max_attempts=1),
    )
    return NotifyContext(public_url="http://vigil.test", http=http, store=store, clock=clock, **kw)


def add_channel(store: Any, cid: str, kind: str, target: str) -> None:
    store.put_doc(CHANNEL_KIND, cid, Channel(id=cid, type=kind, name=cid, target=target).model_dump())  # type: ignore[arg-type]


def publish(dispatcher: LocalDispatcher, message: dict[str, Any]) -> None:
    dispatcher.publish(message, notification_attributes(message))


def test_a_failing_target_is_retried_with_back_off_then_becomes_a_dead_letter_with_the_reason(
    receiver: Receiver, store: Any, alert_config: Config
) -> None:
    config = alert_config.with_(notify_max_attempts=3)
    clock = Clock()
    add_channel(store, "c-down", "webhook", receiver.url("/down"))
    receiver.answer("/down", *[(500, {})] * 5)
    dispatcher = LocalDispatcher(store, config, context_factory=lambda: context(store, clock))
    publish(dispatcher, sample_notification(id="n-down", channels=("c-down",)).to_message())
    queued = store.get_doc(RETRY_KIND, "n-down")
    assert (queued["attempts"], queued["next_at"]) == (1, T + 10)
    assert store.get_doc(DEAD_LETTER_KIND, "n-down") is None

    def retry_at(t: float) -> dict[str, str]:
        clock.t = t
        return retry_due(store, config, t, context_factory=lambda: context(store, clock))

    assert retry_at(T + 9) == {}  # back-off not over
    assert retry_at(T + 10) == {"n-down": "retry"}
    assert store.get_doc(RETRY_KIND, "n-down")["next_at"] == T + 10 + 30  # 10 s, then 30 s
    assert retry_at(T + 40) == {"n-down": "dead"}
    dead = store.get_doc(DEAD_LETTER_KIND, "n-down")
    assert dead["attempts"] == 3 and "HTTP 500" in dead["channels"]["c-down"]
    assert store.get_doc(RETRY_KIND, "n-down") is None and len(receiver.to("/down")) == 3
    assert retry_at(T + 10_000) == {}  # bounded: nothing more is tried


def test_a_poison_notification_is_dead_lettered_at_once_and_the_next_one_is_delivered(
    receiver: Receiver, store: Any, alert_config: Config
) -> None:
    add_channel(store, "c-slack", "slack", receiver.url("/slack"))
    add_channel(store, "c-hook", "webhook", receiver.url("/hook"))
    dispatcher = LocalDispatcher(store, alert_config, context_factory=lambda: context(store, Clock()))
    # A value the notifiers cannot format (e.g. left in an outbox by an older version): poison.
    poison = {**sample_notification(id="n-poison", channels=("c-slack",)).to_message(), "value": "n/a"}
    started = time.monotonic()
    publish(dispatcher, poison)
    publish(dispatcher, sample_notification(id="n-next", channels=("c-hook",)).to_message())
    assert time.monotonic() - started < 2.0
    dead = store.get_doc(DEAD_LETTER_KIND, "n-poison")
    assert "cannot build the message: TypeError" in dead["channels"]["c-slack"]
    assert store.get_doc(RETRY_KIND, "n-poison") is None  # no retry can fix it
    assert receiver.to("/slack") == [] and len(receiver.to("/hook")) == 1


def test_an_unreadable_message_is_dead_lettered_instead_of_retried_on_every_tick(
    store: Any, alert_config: Config
) -> None:
    dispatcher = LocalDispatcher(store, alert_config, context_factory=lambda: context(store, Clock()))
    publish(dispatcher, {"id": "n-broken", "kind": "firing", "status": "firing", "severity": "info"})
    dead = store.get_doc(DEAD_LETTER_KIND, "n-broken")
    assert dead["channels"]["*"].startswith("TypeError") and store.get_doc(RETRY_KIND, "n-broken") is None


def test_a_rule_name_with_a_newline_is_delivered_by_email_with_a_one_line_subject(
    smtp: tuple[Inbox, int],  # noqa: F811
    store: Any,
    alert_config: Config,
) -> None:
    handler, port = smtp
    add_channel(store, "c-mail", "email", "ops@example.com")
    ctx = context(store, Clock(), smtp_url=f"smtp://127.0.0.1:{port}")
    dispatcher = LocalDispatcher(store, alert_config, context_factory=lambda: ctx)
    publish(
        dispatcher,
        sample_notification(id="n-nl", rule_name="High\r\nCPU\tnow", channels=("c-mail",)).to_message(),
    )
    (envelope,) = handler.messages
    assert message_from_bytes(envelope.content)["Subject"] == "[FIRING] High CPU now (host=web-1)"
    assert store.get_doc(DEAD_LETTER_KIND, "n-nl") is None


@mock_aws
def test_a_rule_name_with_a_newline_is_published_to_sns_with_a_one_line_subject() -> None:
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topic = sns.create_topic(Name="vigil-alerts")["TopicArn"]
    url = sqs.create_queue(QueueName="probe")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    message = sample_notification(rule_name="Disk\nfull " + "x" * 200).to_message()
    SnsPublisher(topic, "http://vigil.test", client=sns).publish(message, notification_attributes(message))
    (got,) = sqs.receive_message(QueueUrl=url)["Messages"]
    subject = json.loads(got["Body"])["Subject"]
    assert subject.startswith("[FIRING] Disk full x") and "\n" not in subject and len(subject) < 100


# -- the API, the CLI, replay ------------------------------------------------------------------------
@pytest.fixture
def dead(ctx: AppContext, receiver: Receiver) -> list[str]:
    """Three dead letters for a webhook whose receiver answered 400 (fixed since)."""
    add_channel(ctx.store, "c-hook", "webhook", receiver.url("/hook"))
    ids = []
    for i in range(3):
        message = sample_notification(id=f"n-dead-{i}", channels=("c-hook",)).to_message()
        ctx.store.put_doc(
            DELIVERY_KIND, f"n-dead-{i}:c-hook", {"id": f"n-dead-{i}:c-hook", "status": "undelivered"}
        )
        dead_letters.record(ctx.store, message, {"c-hook": "HTTP 400"}, T + i, source="delivery")
        ids.append(f"n-dead-{i}")
    return ids


def test_dead_letters_are_listed_newest_first_page_by_page(admin: GatewayClient, dead: list[str]) -> None:
    first = admin.request("GET", "/api/notifications/dead-letters", params={"limit": 2})
    assert first.status == 200, first.body
    page1 = json_of(first)
    assert [d["id"] for d in page1["items"]] == ["n-dead-2", "n-dead-1"] and page1["next_cursor"]
    assert page1["items"][0]["reason"] == "c-hook: HTTP 400" and page1["items"][0]["replayable"] is True
    page2 = json_of(
        admin.request(
            "GET", "/api/notifications/dead-letters", params={"limit": 2, "cursor": page1["next_cursor"]}
        )
    )
    assert [d["id"] for d in page2["items"]] == ["n-dead-0"] and page2["next_cursor"] is None


def test_a_bad_cursor_is_a_400_naming_the_field_and_viewers_cannot_see_dead_letters(
    admin: GatewayClient, viewer: GatewayClient, dead: list[str]
) -> None:
    bad = admin.request("GET", "/api/notifications/dead-letters", params={"cursor": "nonsense"})
    assert bad.status == 400 and json_of(bad)["error"]["field"] == "cursor"
    assert viewer.request("GET", "/api/notifications/dead-letters").status == 403
    assert viewer.request("POST", "/api/notifications/dead-letters/n-dead-0/replay").status == 403


def test_replay_through_the_api_delivers_to_the_fixed_target_and_removes_the_dead_letter(
    admin: GatewayClient, ctx: AppContext, receiver: Receiver, dead: list[str]
) -> None:
    response = admin.request("POST", "/api/notifications/dead-letters/n-dead-1/replay")
    assert response.status == 200, response.body
    assert json_of(response) == {
        "id": "n-dead-1",
        "delivered": ["inbox", "c-hook"],
        "failed": {},
        "dead_letter": False,
    }
    (req,) = receiver.to("/hook")
    assert json.loads(req.body)["id"] == "n-dead-1"
    assert ctx.store.get_doc(DEAD_LETTER_KIND, "n-dead-1") is None
    assert admin.request("POST", "/api/notifications/dead-letters/n-dead-1/replay").status == 404


def test_a_replay_that_fails_again_keeps_the_dead_letter_with_the_new_reason(
    admin: GatewayClient, ctx: AppContext, receiver: Receiver, dead: list[str]
) -> None:
    receiver.answer("/hook", (410, {}))
    result = json_of(admin.request("POST", "/api/notifications/dead-letters/n-dead-0/replay"))
    assert result["dead_letter"] is True and "HTTP 410" in result["failed"]["c-hook"]
    kept = ctx.store.get_doc(DEAD_LETTER_KIND, "n-dead-0")
    assert "HTTP 410" in kept["reason"] and kept["attempts"] == 2
    assert admin.request("DELETE", "/api/notifications/dead-letters/n-dead-0").status == 200
    assert ctx.store.get_doc(DEAD_LETTER_KIND, "n-dead-0") is None


def vigil(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    return subprocess.run(
        [sys.executable, "-m", "vigil.cli", "notifications", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_vigil_notifications_replay_works_on_the_local_store_and_over_http(
    tmp_path: Path, receiver: Receiver
) -> None:
    data = tmp_path / "data"
    ctx = AppContext(Config(data_dir=data))
    add_channel(ctx.store, "c-hook", "webhook", receiver.url("/hook"))
    for nid in ("n-cli-1", "n-cli-2"):
        message = sample_notification(id=nid, channels=("c-hook",)).to_message()
        dead_letters.record(ctx.store, message, {"c-hook": "HTTP 503"}, time.time(), source="local")
    ctx.store.close()

    listed = vigil("dead-letters", "--data-dir", str(data))
    assert listed.returncode == 0 and "n-cli-1" in listed.stdout and "2 dead letter(s)" in listed.stdout
    local = vigil("replay", "n-cli-1", "--data-dir", str(data))
    assert local.returncode == 0, local.stderr
    assert "delivered  c-hook" in local.stdout and "n-cli-1: replayed" in local.stdout

    with LocalServer(Config(data_dir=data, interval_seconds=3600), port=0, agent=False) as server:
        remote = vigil("replay", "n-cli-2", "--url", server.url, "--token", server.admin_token)
        assert remote.returncode == 0, remote.stderr
        missing = vigil("replay", "n-nope", "--url", server.url, "--token", server.admin_token)
        assert missing.returncode == 1 and "404" in missing.stderr
    assert [json.loads(r.body)["id"] for r in receiver.to("/hook")] == ["n-cli-1", "n-cli-2"]


def test_dead_letters_are_forgotten_after_their_retention(store: Any) -> None:
    message = sample_notification(id="n-old").to_message()
    dead_letters.record(store, message, {"c1": "HTTP 400"}, T, source="local")
    dead_letters.record(store, {**message, "id": "n-new"}, {"c1": "HTTP 400"}, T + 13 * 86400, source="local")
    assert dead_letters.maybe_purge(store, T + 14 * 86400 + 1, 14 * 86400.0) == 1
    assert [d["id"] for d in store.list_docs(DEAD_LETTER_KIND)] == ["n-new"]


# -- AWS: the notify function's SQS dead-letter queue --------------------------------------------------
@pytest.fixture
def aws_dlq(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    entry._sqs_dead_letters.cache_clear()
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")
    entry._sqs_dead_letters.cache_clear()


def lambda_failure_record(message: dict[str, Any], error: str) -> str:
    """What Lambda's on-failure destination puts in the queue after its retries (AWS docs' shape)."""
    sns = {"Type": "Notification", "MessageId": "m-1", "Message": json.dumps(message)}
    return json.dumps(
        {
            "version": "1.0",
            "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3},
            "requestPayload": {"Records": [{"EventSource": "aws:sns", "Sns": sns}]},
            "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
            "responsePayload": {"errorMessage": error, "errorType": "DeliveryError"},
        }
    )


def test_in_aws_the_sqs_dead_letter_queue_is_listed_and_replayed(
    aws_dlq: Any, tmp_path: Path, receiver: Receiver
) -> None:
    from vigil.local.gateway import Gateway

    url = aws_dlq.create_queue(QueueName="vigil-notify-dlq")["QueueUrl"]
    message = sample_notification(id="n-sqs", channels=("c-hook",)).to_message()
    aws_dlq.send_message(
        QueueUrl=url, MessageBody=lambda_failure_record(message, "webhook answered HTTP 502")
    )
    aws_dlq.send_message(QueueUrl=url, MessageBody="not json")
    ctx = AppContext(Config(data_dir=tmp_path, admin_token="va_dlq-admin", notify_dlq_url=url))
    add_channel(ctx.store, "c-hook", "webhook", receiver.url("/hook"))
    admin = GatewayClient(Gateway(ctx), token="va_dlq-admin")
    try:
        listing = json_of(admin.request("GET", "/api/notifications/dead-letters"))
        by_id = {d["id"]: d for d in listing["items"]}
        assert by_id["n-sqs"]["reason"] == "webhook answered HTTP 502" and by_id["n-sqs"]["source"] == "sqs"
        (unreadable,) = [d for d in listing["items"] if d["id"] != "n-sqs"]
        assert unreadable["replayable"] is False
        assert aws_dlq.receive_message(QueueUrl=url, VisibilityTimeout=0).get("Messages", []) == []

        replayed = json_of(admin.request("POST", "/api/notifications/dead-letters/n-sqs/replay"))
        assert replayed["delivered"] == ["inbox", "c-hook"] and replayed["dead_letter"] is False
        assert json.loads(receiver.to("/hook")[0].body)["id"] == "n-sqs"
        refused = admin.request("POST", f"/api/notifications/dead-letters/{unreadable['id']}/replay")
        assert refused.status == 409
    finally:
        ctx.store.close()


class RefusingPublisher:
    """Answers every publish the way botocore reports an SNS refusal (InvalidParameter)."""

    def __init__(self) -> None:
        self.calls = 0

    def publish(self, message: dict[str, Any], attributes: Any) -> None:
        from botocore.exceptions import ClientError

        self.calls += 1
        error = {"Error": {"Code": "InvalidParameter", "Message": "Invalid parameter: Subject"}}
        raise ClientError(error, "Publish")  # type: ignore[arg-type]


def test_a_message_sns_refuses_for_good_is_dead_lettered_not_republished_every_tick(store: Any) -> None:
    from vigil.alerting.service import EvaluationReport, publish_outbox

    publisher = RefusingPublisher()
    message = sample_notification(id="n-refused").to_message()
    for tick in range(3):
        publish_outbox(store, publisher, [message], T + 60 * tick, EvaluationReport())
    assert publisher.calls == 1
    assert "InvalidParameter" in store.get_doc(DEAD_LETTER_KIND, "n-refused")["reason"]
