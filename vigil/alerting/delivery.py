"""The notify entry point: `deliver(message, store, config)` sends one published notification to each
of its channels and to the in-app inbox. The notify Lambda calls it for every SNS record; in local
mode `LocalDispatcher` (`vigil.alerting.local_delivery`) calls `deliver_once` in-process, so both
modes share the path from "publish" on.

Each (notification, channel) delivery is recorded (`delivery` documents) before `deliver` returns, so
a redelivered message (SNS/Lambda retry, evaluator re-publish after a crash) skips channels already
served. Final failures (a 400, a refused address, SMS without AWS, a notifier that raises anything
but `DeliveryError` while building the message) are recorded as `undelivered` and become a dead
letter with their reason (`vigil.alerting.dead_letters`); retryable ones are retried inside the
deadline and then re-raised as one `DeliveryError(retryable=True)` so Lambda's async retry and its
on-failure DLQ keep the message (locally, the dispatcher's own attempts with back-off).
In AWS (an alerts topic is configured) e-mail and SMS channels are served by native SNS subscriptions
and skipped here. Imports: `vigil.domain`, `vigil.ports`, `vigil.config`, `vigil.adapters.notify`,
`vigil.alerting`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vigil.adapters.notify.base import NotifyContext, SmsSender
from vigil.adapters.notify.http import Deadline, HttpClient
from vigil.adapters.notify.inbox import InboxNotifier
from vigil.adapters.notify.registry import build_notifier
from vigil.adapters.notify.ssrf import policy_for
from vigil.alerting import dead_letters
from vigil.alerting.kinds import CHANNEL_KIND, DELIVERY_KIND, clean
from vigil.alerting.ports import Publisher
from vigil.config import Config
from vigil.domain.alerts import Notification
from vigil.domain.channels import NATIVE_SNS_TYPES, ChannelLike, stored_channel
from vigil.domain.errors import DeliveryError, Gone
from vigil.ports import Store

log = logging.getLogger(__name__)

LOCAL_DEADLINE_SECONDS = 20.0


@dataclass
class DeliveryReport:
    notification_id: str
    delivered: list[str] = field(default_factory=list)
    undelivered: dict[str, str] = field(default_factory=dict)  # channel id → reason (final)
    retry: dict[str, str] = field(default_factory=dict)  # channel id → reason (retryable)
    skipped: list[str] = field(default_factory=list)  # already delivered, disabled, or native SNS
    removed: list[str] = field(default_factory=list)  # push subscriptions gone (404/410), deleted


def notify_context(
    config: Config, store: Store, *, remaining: Callable[[], float] | None = None, **overrides: Any
) -> NotifyContext:
    """The context notifiers run with; `remaining` is the Lambda's remaining time in seconds."""
    deadline = Deadline(remaining) if remaining is not None else Deadline.after(LOCAL_DEADLINE_SECONDS)
    http = overrides.pop("http", None) or HttpClient(policy_for(config), deadline)
    return NotifyContext(
        public_url=config.links_url,
        http=http,
        store=store,
        smtp_url=config.smtp_url,
        sms=overrides.pop("sms", _lazy_sns_sms(config)),
        **overrides,
    )


def deliver(
    message: dict[str, Any], store: Store, config: Config, *, context: NotifyContext | None = None
) -> DeliveryReport:
    """Deliver one notification message (`Notification.to_message()`) to its channels and the inbox.

    Raises:
        DeliveryError: retryable, when at least one channel failed in a way a later retry can fix;
            channels already delivered are recorded and skipped by that retry.
    """
    report = deliver_once(message, store, config, context=context)
    if report.retry:
        reasons = "; ".join(report.retry.values())
        raise DeliveryError(
            f"notification {report.notification_id}: {len(report.retry)} channel(s) to retry: {reasons}",
            retryable=True,
        )
    return report


def deliver_once(
    message: dict[str, Any], store: Store, config: Config, *, context: NotifyContext | None = None
) -> DeliveryReport:
    """One delivery attempt: like `deliver`, but retryable failures are left in `report.retry` for the
    caller's retry policy. Channels that failed for good become a dead letter (`dead_letters.record`).

    Raises:
        Exception: the message itself is unreadable (a poison message: the caller dead-letters it).
    """
    n = Notification.from_message(message)
    ctx = context or notify_context(config, store)
    report = DeliveryReport(n.id)
    _send(n, "inbox", "inbox", InboxNotifier(None, ctx), store, ctx, report)
    for channel_id in n.channels:
        doc = store.get_doc(CHANNEL_KIND, channel_id)
        # validated by `Channel` when written: read without pydantic (the notify cold start)
        channel = stored_channel(clean(doc)) if doc is not None else None
        if channel is None:
            _record(store, n.id, channel_id, "undelivered", "channel no longer exists", ctx)
            report.undelivered[channel_id] = "channel no longer exists"
        elif not channel.enabled or (config.alerts_topic_arn and channel.type in NATIVE_SNS_TYPES):
            report.skipped.append(channel_id)
        elif channel.type != "inbox":
            _send(n, channel_id, channel.type, build_notifier(channel, ctx), store, ctx, report)
    _send_push(n, store, config, ctx, report)
    if report.undelivered:
        dead_letters.record(store, message, report.undelivered, ctx.clock(), source="delivery")
    return report


def send_test(
    store: Store,
    config: Config,
    channel: ChannelLike,
    now: float,
    *,
    context: NotifyContext | None = None,
    publisher: Publisher | None = None,
) -> dict[str, Any]:
    """`POST /api/channels/{id}/test`: one synthetic notification to this channel only, now. In AWS an
    e-mail or SMS channel is tested the way it is served: published to the alerts topic (`kind` test,
    `channels` = this channel), so its own subscription delivers it and nothing else does."""
    n = Notification(
        id=f"test-{channel.id}-{int(now)}",
        kind="test",
        status="firing",
        rule_id="test",
        rule_name="Vigil test notification",
        severity="info",
        group={"host": "example"},
        value=0.42,
        threshold=0.8,
        op=">",
        started_at=now,
        resolved_at=None,
        channels=(channel.id,),
        message="If you can read this, the channel works.",
        created_at=now,
    )
    if config.alerts_topic_arn and channel.type in NATIVE_SNS_TYPES:
        return _publish_test(n, channel, publisher)
    ctx = context or notify_context(config, store)
    try:
        build_notifier(channel, ctx).send(n)
    except DeliveryError as exc:
        return {"ok": False, "reason": exc.message, "retryable": exc.retryable}
    return {"ok": True}


def _publish_test(n: Notification, channel: ChannelLike, publisher: Publisher | None) -> dict[str, Any]:
    from vigil.alerting.service import notification_attributes

    if publisher is None:
        return {"ok": False, "reason": "no publisher for the alerts topic", "retryable": True}
    message = n.to_message()
    try:
        publisher.publish(message, notification_attributes(message))
    except Exception as exc:  # botocore: the code says why (throttled, not authorised, ...)
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
        return {"ok": False, "reason": f"SNS refused the test: {code}", "retryable": True}
    note = "published to the alerts topic; SNS delivers it to this channel's subscription"
    if channel.type == "email":
        note += " (nothing arrives until the address has confirmed the subscription e-mail)"
    return {"ok": True, "via": "sns", "note": note}


def _send_push(
    n: Notification, store: Store, config: Config, ctx: NotifyContext, report: DeliveryReport
) -> None:
    """Every Web Push subscription that wants `n` (`vigil.alerting.push`), each a delivery of its own
    (`push:<subscription id>`): recorded, retried and dead-lettered like a channel."""
    from vigil.alerting import push  # lazy (cold starts); it imports cryptography only to send or make keys

    try:
        targets = push.targets(store, config, n, ctx)
    except Exception as exc:  # the subscriptions or the keys cannot be read now (store, KMS): retry
        log.warning("notification %s: web push targets unreadable: %s", n.id, type(exc).__name__)
        report.retry["push"] = f"web push subscriptions unreadable: {type(exc).__name__}"
        return
    for target_id, notifier in targets:
        _send(n, target_id, "push", notifier, store, ctx, report)


def _send(
    n: Notification,
    channel_id: str,
    kind: str,
    notifier: Any,
    store: Store,
    ctx: NotifyContext,
    report: DeliveryReport,
) -> None:
    done = store.get_doc(DELIVERY_KIND, f"{n.id}:{channel_id}")
    if done is not None and done.get("status") in ("delivered", "undelivered", "gone"):
        report.skipped.append(channel_id)
        return
    try:
        try:
            notifier.send(n)
        except DeliveryError:
            raise
        except Exception as exc:  # a notifier that cannot even build this message: poison, not retryable
            raise DeliveryError(
                f"cannot build the message: {type(exc).__name__}: {exc}", retryable=False
            ) from exc
    except Gone as exc:  # a push subscription the browser dropped: removed, nothing left to deliver
        log.info("notification %s to %s: %s", n.id, channel_id, exc.message)
        report.removed.append(channel_id)
        _record(store, n.id, channel_id, "gone", exc.message, ctx)
        return
    except DeliveryError as exc:
        status = "retrying" if exc.retryable else "undelivered"
        (report.retry if exc.retryable else report.undelivered)[channel_id] = exc.message
        log.warning("notification %s to %s channel %s: %s", n.id, kind, channel_id, exc.message)
        _record(
            store,
            n.id,
            channel_id,
            status,
            exc.message,
            ctx,
            attempts=int((done or {}).get("attempts", 0)) + 1,
        )
        return
    _record(store, n.id, channel_id, "delivered", None, ctx)
    report.delivered.append(channel_id)


def _record(
    store: Store,
    nid: str,
    channel_id: str,
    status: str,
    reason: str | None,
    ctx: NotifyContext,
    attempts: int = 1,
) -> None:
    store.put_doc(
        DELIVERY_KIND,
        f"{nid}:{channel_id}",
        {
            "id": f"{nid}:{channel_id}",
            "notification_id": nid,
            "channel_id": channel_id,
            "status": status,
            "reason": reason,
            "attempts": attempts,
            "at": ctx.clock(),
        },
    )


def _lazy_sns_sms(config: Config) -> SmsSender:
    """An SMS sender that builds the SNS client on first use; in local mode without AWS credentials it
    refuses with a clear, final reason (recorded as undelivered)."""
    client: list[Any] = []

    def send(number: str, text: str) -> None:
        from vigil.adapters.notify.sms import aws_credentials_available, sns_sms_sender

        if not client:
            if config.alerts_topic_arn is None and not aws_credentials_available():
                raise DeliveryError(
                    "SMS not sent: local mode has no AWS credentials for SNS "
                    "(configure AWS credentials or deploy to AWS)",
                    retryable=False,
                )
            from vigil.adapters import aws

            client.append(aws.client("sns"))
        sns_sms_sender(client[0])(number, text)

    return send
