"""Notifiers against real receivers: exact payloads, signatures, retry classification, redaction."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import pytest

from tests.functional.alerting.samples import sample_notification
from vigil.adapters.notify.base import NotifyContext
from vigil.adapters.notify.discord import DiscordNotifier
from vigil.adapters.notify.http import Deadline, HttpClient, classify, retry_after
from vigil.adapters.notify.redact import REDACTED, redact
from vigil.adapters.notify.slack import SlackNotifier
from vigil.adapters.notify.ssrf import WebhookPolicy, resolve_target
from vigil.adapters.notify.webhook import SIGNATURE_HEADER, WebhookNotifier, verify_signature
from vigil.domain.alerts import Notification
from vigil.domain.channels import Channel, parse_channel
from vigil.domain.errors import DeliveryError, Invalid

if TYPE_CHECKING:  # fixtures' types (tests/functional/alerting/conftest.py)
    from conftest import Receiver, Waits

T = 1_764_000_000.0
SLACK_PATH = "/services/T0000/B0000/XXXXsecretTOKEN"
DISCORD_PATH = "/api/webhooks/123/discordSECRETtoken"
HOOK_SECRET = "whsec-0123456789abcdef"
ALERT_URL = "http://vigil.test/#/alerts?rule=default-cpu"


def note(**kw: Any) -> Notification:
    return sample_notification(**kw)


def test_slack_receives_a_block_kit_message(receiver: Receiver, nctx: NotifyContext) -> None:
    SlackNotifier(Channel(type="slack", name="ops", target=receiver.url(SLACK_PATH)), nctx).send(note())
    (req,) = receiver.to(SLACK_PATH)
    assert json.loads(req.body) == {
        "text": "[FIRING] High CPU (host=web-1): CPU is 93%",
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": "[FIRING] High CPU (host=web-1)", "emoji": True},
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": "CPU is 93%"}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*Severity*\ncritical"},
                    {"type": "mrkdwn", "text": "*Value*\n93%"},
                    {"type": "mrkdwn", "text": "*Threshold*\n> 80%"},
                    {"type": "mrkdwn", "text": "*Started*\n2025-11-24T15:58:00.000Z"},
                    {"type": "mrkdwn", "text": "*Group*\nhost=web-1"},
                ],
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"<{ALERT_URL}|Open in Vigil> · rule `default-cpu`",
                    }
                ],
            },
        ],
    }


def test_discord_receives_an_embed_coloured_by_severity(receiver: Receiver, nctx: NotifyContext) -> None:
    channel = Channel(type="discord", name="ops", target=receiver.url(DISCORD_PATH))
    DiscordNotifier(channel, nctx).send(note())
    DiscordNotifier(channel, nctx).send(note(status="resolved", kind="resolved", resolved_at=T))
    firing, resolved = (json.loads(r.body) for r in receiver.to(DISCORD_PATH))
    embed = firing["embeds"][0]
    assert (embed["title"], embed["color"], embed["timestamp"]) == (
        "[FIRING] High CPU (host=web-1)",
        0xE01E5A,
        "2025-11-24T15:58:00.000Z",
    )
    assert {"name": "Value", "value": "93%", "inline": True} in embed["fields"]
    assert firing["allowed_mentions"] == {"parse": []}
    assert resolved["embeds"][0]["color"] == 0x2EB67D and resolved["embeds"][0]["title"].startswith(
        "[RESOLVED]"
    )


def test_webhook_body_is_the_stable_contract_and_its_signature_verifies(
    receiver: Receiver, nctx: NotifyContext
) -> None:
    channel = Channel(type="webhook", name="hook", target=receiver.url("/hook"), secret=HOOK_SECRET)
    WebhookNotifier(channel, nctx).send(note(status="resolved", kind="resolved", resolved_at=T))
    (req,) = receiver.to("/hook")
    body = json.loads(req.body)
    assert {
        k: body[k]
        for k in (
            "version",
            "status",
            "rule",
            "group",
            "value",
            "threshold",
            "started_at",
            "resolved_at",
            "url",
        )
    } == {
        "version": 1,
        "status": "resolved",
        "rule": {"id": "default-cpu", "name": "High CPU", "severity": "critical"},
        "group": {"host": "web-1"},
        "value": 0.93,
        "threshold": 0.8,
        "started_at": "2025-11-24T15:58:00.000Z",
        "resolved_at": "2025-11-24T16:00:00.000Z",
        "url": "http://vigil.test/#/alerts?rule=default-cpu",
    }
    signature = req.headers[SIGNATURE_HEADER]
    assert signature.startswith(f"t={int(T)},v1=")
    assert verify_signature(HOOK_SECRET, signature, req.body, now=T + 10)
    assert not verify_signature("another-secret-0000", signature, req.body, now=T + 10)
    assert not verify_signature(HOOK_SECRET, signature, req.body + b" ", now=T + 10)
    assert not verify_signature(HOOK_SECRET, signature, req.body, now=T + 3600)  # replay window over


def test_webhook_is_retried_on_500_with_exponential_backoff(
    receiver: Receiver, nctx: NotifyContext, waits: Waits
) -> None:
    receiver.answer("/hook", (500, {}), (503, {}), (200, {}))
    WebhookNotifier(Channel(type="webhook", name="h", target=receiver.url("/hook")), nctx).send(note())
    assert len(receiver.to("/hook")) == 3
    assert waits == [0.5, 1.0]


def test_webhook_honours_retry_after_on_429(receiver: Receiver, nctx: NotifyContext, waits: Waits) -> None:
    receiver.answer("/hook", (429, {"Retry-After": "7"}), (200, {}))
    WebhookNotifier(Channel(type="webhook", name="h", target=receiver.url("/hook")), nctx).send(note())
    assert len(receiver.to("/hook")) == 2 and waits == [7.0]


def test_webhook_gives_up_at_once_on_400(receiver: Receiver, nctx: NotifyContext, waits: Waits) -> None:
    receiver.answer("/hook", (400, {}))
    with pytest.raises(DeliveryError) as err:
        WebhookNotifier(Channel(type="webhook", name="h", target=receiver.url("/hook")), nctx).send(note())
    assert not err.value.retryable and "HTTP 400" in err.value.message
    assert len(receiver.to("/hook")) == 1 and waits == []


def test_retries_stop_at_the_deadline_and_raise_a_retryable_error(
    receiver: Receiver, store: Any, waits: Waits
) -> None:
    receiver.answer("/hook", *[(503, {})] * 10)
    http = HttpClient(
        WebhookPolicy(https_only=False, allow_loopback=True), Deadline(lambda: 6.0), sleep=waits
    )
    nctx = NotifyContext(public_url="http://vigil.test", http=http, store=store)
    with pytest.raises(DeliveryError) as err:
        WebhookNotifier(Channel(type="webhook", name="h", target=receiver.url("/hook")), nctx).send(note())
    assert err.value.retryable and "gave up after" in err.value.message
    assert len(receiver.to("/hook")) == len(waits) + 1


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert retry_after("120") == 120.0
    assert retry_after("Wed, 26 Nov 2025 16:00:30 GMT", now=1_764_172_800.0) == 30.0
    assert retry_after("soon") is None and retry_after(None) is None
    assert classify(302, {}, "", what="x") is not None and not classify(302, {}, "", what="x").retryable  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kind", "path", "secret"),
    [
        ("slack", SLACK_PATH, "XXXXsecretTOKEN"),
        ("discord", DISCORD_PATH, "discordSECRETtoken"),
        ("webhook", "/hook/abc", HOOK_SECRET),
    ],
)
def test_channel_secrets_never_appear_in_errors_or_logs(
    kind: str,
    path: str,
    secret: str,
    receiver: Receiver,
    nctx: NotifyContext,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from vigil.adapters.notify.registry import build_notifier

    receiver.answer(path, (400, {}))
    channel = Channel(
        type=kind,
        name="x",
        target=receiver.url(path),  # type: ignore[arg-type]
        secret=HOOK_SECRET if kind == "webhook" else None,
    )
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DeliveryError) as err:
        build_notifier(channel, nctx).send(note())
    dead = Channel(
        type=kind,
        name="x",
        target=f"http://127.0.0.1:1{path}",  # type: ignore[arg-type]
        secret=HOOK_SECRET if kind == "webhook" else None,
    )
    nctx.http.retry = type(nctx.http.retry)(max_attempts=1)
    with pytest.raises(DeliveryError) as conn_err:
        build_notifier(dead, nctx).send(note())
    texts = [str(err.value), err.value.message, str(conn_err.value), caplog.text, repr(dead.public())]
    for text in texts:
        assert secret not in text and path not in text
    assert "Connection" in conn_err.value.message or "connection" in conn_err.value.message


def test_redact_removes_urls_paths_and_secrets() -> None:
    text = "POST https://hooks.slack.com/services/T/B/tok failed; url: /services/T/B/tok key=s3cr3t-key"
    out = redact(text, ["/services/T/B/tok", "s3cr3t-key"])
    assert "tok" not in out and "s3cr3t" not in out and "https://hooks.slack.com/" + REDACTED in out


@pytest.mark.parametrize(
    ("address", "policy", "refused"),
    [
        ("10.1.2.3", WebhookPolicy(), "private"),
        ("169.254.169.254", WebhookPolicy(allow_private=True, allow_loopback=True), "instance-metadata"),
        ("fe80::1", WebhookPolicy(allow_private=True, allow_loopback=True), "link-local"),
        ("127.0.0.1", WebhookPolicy(), "loopback"),
        ("::ffff:192.168.0.1", WebhookPolicy(), "private"),
        ("224.0.0.1", WebhookPolicy(allow_private=True), "multicast"),
        ("0.0.0.0", WebhookPolicy(), "unspecified"),
        ("192.168.1.10", WebhookPolicy(https_only=False, allow_loopback=True), "private"),
    ],
)
def test_ssrf_guard_refuses_non_public_addresses(address: str, policy: WebhookPolicy, refused: str) -> None:
    with pytest.raises(DeliveryError, match=refused) as err:
        resolve_target("https://hooks.example.test/x", policy, resolver=lambda host, port: [address])
    assert not err.value.retryable


def test_ssrf_guard_requires_https_unless_allowed() -> None:
    with pytest.raises(DeliveryError, match="https"):
        resolve_target(
            "http://hooks.example.test/x", WebhookPolicy(), resolver=lambda h, p: ["93.184.215.14"]
        )
    pinned = resolve_target(
        "https://hooks.example.test/x", WebhookPolicy(), resolver=lambda h, p: ["93.184.215.14"]
    )
    assert (pinned.ip, pinned.port, pinned.host_header) == ("93.184.215.14", 443, "hooks.example.test")


def test_connection_is_pinned_to_the_address_resolved_once(receiver: Receiver, nctx: NotifyContext) -> None:
    lookups: list[str] = []

    def rebinding_resolver(host: str, port: int) -> list[str]:
        lookups.append(host)  # a rebinding DNS would answer 10.0.0.1 the second time
        return ["127.0.0.1"] if len(lookups) == 1 else ["10.0.0.1"]

    nctx.http.resolver = rebinding_resolver
    receiver.answer("/pinned", (500, {}), (200, {}))
    url = f"http://hooks.example.test:{receiver.port}/pinned"
    WebhookNotifier(Channel(type="webhook", name="h", target=url), nctx).send(note())
    assert lookups == ["hooks.example.test"]  # resolved once for both attempts
    assert [r.headers["Host"] for r in receiver.to("/pinned")] == [f"hooks.example.test:{receiver.port}"] * 2


def test_channel_public_view_hides_secrets_and_webhook_paths() -> None:
    ch = parse_channel({"type": "slack", "name": "ops", "target": "https://hooks.slack.com/services/T/B/tok"})
    assert ch.public() == {
        "id": ch.id,
        "type": "slack",
        "name": "ops",
        "target": "https://hooks.slack.com/…",
        "has_secret": False,
        "enabled": True,
    }
    hook = parse_channel(
        {"type": "webhook", "name": "h", "target": "https://x.test/h", "secret": HOOK_SECRET}
    )
    assert HOOK_SECRET not in json.dumps(hook.public())


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "sms", "name": "n", "target": "0612"}, "target"),
        ({"type": "email", "name": "n", "target": "x"}, "target"),
        ({"type": "fax", "name": "n"}, "type"),
        ({"type": "slack", "name": "n", "target": "ftp://x"}, "target"),
        ({"type": "webhook", "name": "n", "target": "https://u:p@x.test/"}, "target"),
    ],
)
def test_invalid_channel_is_refused_naming_the_field(body: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as err:
        parse_channel(body)
    assert err.value.field in (field, "target")
