"""Dead letters: notifications that could not be delivered, kept with the reason so people can see
them (`GET /api/notifications/dead-letters`, Settings → Deliveries) and replay them once the target
is fixed (`POST /api/notifications/dead-letters/{id}/replay`, `vigil notifications replay ID`).

One `dead_letter` document per notification (id = the notification id), listing each channel that
failed and why. They are written by `deliver` for final failures (a 4xx, a refused address, a
notification a notifier cannot even build), by the local dispatcher when its attempts run out, by the
evaluator when SNS refuses a message for good, and — in AWS — imported from the notify function's SQS
dead-letter queue (what Lambda gives up on after its retries) whenever the list is read or a replay
asks for an id not yet imported. They are kept `VIGIL_DEAD_LETTER_RETENTION_DAYS` (14), purged hourly.

Imports: `vigil.domain`, `vigil.ports`, `vigil.config`, `vigil.alerting.repo`; `vigil.alerting.delivery`
lazily (it records dead letters through this module).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from vigil.alerting.kinds import DEAD_LETTER_KIND, DELIVERY_KIND, META_KIND, clean
from vigil.config import Config
from vigil.domain.errors import Conflict, Invalid, NotFound
from vigil.ports import Store

if TYPE_CHECKING:
    from vigil.adapters.notify.base import NotifyContext

log = logging.getLogger(__name__)

PURGE_EVERY_SECONDS = 3600.0
MAX_PAGE = 200


class QueuedDeadLetter(Protocol):
    """One message of the notify function's SQS dead-letter queue (`vigil.adapters.notify.dlq`)."""

    @property
    def message_id(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def sent_at(self) -> float: ...


class DeadLetterQueue(Protocol):
    def receive(self) -> Sequence[QueuedDeadLetter]:
        """Up to a few batches of messages, hidden from other readers for a while."""
        ...

    def delete(self, message: QueuedDeadLetter) -> None:
        """Remove a message once it is stored as a dead letter."""
        ...


def record(
    store: Store,
    message: Mapping[str, Any] | None,
    failures: Mapping[str, str],
    now: float,
    *,
    source: str,
    attempts: int = 1,
    dead_id: str | None = None,
) -> dict[str, Any]:
    """Store (or extend) the dead letter of `message`; `failures` maps channel id → reason ("*" when
    the notification as a whole could not be handled). Returns the stored document."""
    nid = dead_id or str((message or {}).get("id") or "unknown")
    old = store.get_doc(DEAD_LETTER_KIND, nid) or {}
    channels = {**dict(old.get("channels") or {}), **dict(failures)}
    doc = {
        "id": nid,
        "notification_id": nid,
        "message": dict(message) if message is not None else None,
        "channels": channels,
        "reason": "; ".join(f"{cid}: {why}" if cid != "*" else why for cid, why in channels.items()),
        "attempts": max(attempts, int(old.get("attempts", 0))),
        "source": source,
        "first_failed_at": float(old.get("first_failed_at", now)),
        "last_failed_at": now,
    }
    store.put_doc(DEAD_LETTER_KIND, nid, doc)
    log.error("notification %s is a dead letter (%s): %s", nid, source, doc["reason"])
    return doc


def page(store: Store, *, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    """Newest first, `limit` at a time; `next_cursor` is null on the last page.

    Raises:
        Invalid: `cursor` is not one this function returned.
    """
    items = sorted(
        (_public(clean(d)) for d in store.list_docs(DEAD_LETTER_KIND)),
        key=lambda d: (-d["last_failed_at"], d["id"]),
    )
    start = 0
    if cursor:
        after = _decode_cursor(cursor)
        start = next((i for i, d in enumerate(items) if (-d["last_failed_at"], d["id"]) > after), len(items))
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    last = chunk[-1] if chunk else None
    return {
        "items": chunk,
        "next_cursor": _encode_cursor(last["last_failed_at"], last["id"]) if more and last else None,
    }


def import_queue(store: Store, queue: DeadLetterQueue, now: float) -> int:
    """AWS: turn what the notify function's SQS dead-letter queue holds into dead letters (each message
    deleted only after its document is stored). Returns how many were imported."""
    imported = 0
    for queued in queue.receive():
        message, reason, nid = parse_queue_body(queued.body, queued.message_id)
        record(store, message, {"*": reason}, queued.sent_at or now, source="sqs", attempts=3, dead_id=nid)
        queue.delete(queued)
        imported += 1
    return imported


def parse_queue_body(body: str, message_id: str) -> tuple[dict[str, Any] | None, str, str]:
    """(notification, reason, dead-letter id) from an SQS dead-letter body: Lambda's on-failure
    record (`requestPayload` = the SNS event, `responsePayload.errorMessage` = why) or, from the SNS
    subscription's own DLQ, the SNS envelope (SNS could not invoke the function at all)."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return None, "unreadable dead-letter message", f"sqs-{message_id}"
    if isinstance(data.get("requestPayload"), dict):
        raw = data.get("responsePayload")
        response: dict[str, Any] = raw if isinstance(raw, dict) else {}
        condition = (data.get("requestContext") or {}).get("condition", "RetriesExhausted")
        reason = str(response.get("errorMessage") or condition)
        records = data["requestPayload"].get("Records") or [{}]
        envelope = (records[0] or {}).get("Sns") or {}
    else:
        reason, envelope = "SNS could not invoke the notify function", data
    try:
        message = json.loads(envelope.get("Message", ""))
    except (TypeError, ValueError):
        message = None
    if not isinstance(message, dict) or not message.get("id"):
        return None, reason, f"sqs-{message_id}"
    return message, reason, str(message["id"])


def replay(
    store: Store,
    config: Config,
    dead_id: str,
    now: float,
    *,
    context: NotifyContext | None = None,
    queue: DeadLetterQueue | None = None,
) -> dict[str, Any]:
    """Deliver a dead letter again, to the channels it has not reached yet. Delivered: the dead letter
    is gone. Still failing: it stays, with the new reasons and one more attempt.

    Raises:
        NotFound: no dead letter with this id (after importing the SQS queue, in AWS).
        Conflict: the dead letter holds no readable notification (nothing to replay).
    """
    from vigil.alerting.delivery import deliver_once
    from vigil.alerting.local_delivery import attempt_context

    doc = store.get_doc(DEAD_LETTER_KIND, dead_id)
    if doc is None and queue is not None:
        import_queue(store, queue, now)
        doc = store.get_doc(DEAD_LETTER_KIND, dead_id)
    if doc is None:
        raise NotFound(f"no dead letter with id {dead_id}", field="dead_letter_id")
    message = doc.get("message")
    if not isinstance(message, dict):
        raise Conflict(
            "this dead letter holds no notification that could be replayed", field="dead_letter_id"
        )
    nid = str(message.get("id"))
    failed_targets = list(doc.get("channels") or {})  # channels and push subscriptions (`push:<id>`)
    for channel_id in ["inbox", *(message.get("channels") or []), *failed_targets]:  # what was not delivered
        done = store.get_doc(DELIVERY_KIND, f"{nid}:{channel_id}")
        if done is not None and done.get("status") != "delivered":
            store.delete_doc(DELIVERY_KIND, f"{nid}:{channel_id}")
    attempts = int(doc.get("attempts", 1)) + 1
    store.delete_doc(DEAD_LETTER_KIND, dead_id)  # `deliver_once` re-records what fails for good
    try:
        report = deliver_once(message, store, config, context=context or attempt_context(config, store))
    except Exception as exc:
        failed = {"*": f"{type(exc).__name__}: {exc}"}
        record(store, message, failed, now, source="replay", attempts=attempts, dead_id=dead_id)
        return {"id": dead_id, "delivered": [], "failed": failed, "dead_letter": True}
    failed = {**report.undelivered, **report.retry}
    if failed:
        record(store, message, failed, now, source="replay", attempts=attempts, dead_id=dead_id)
    return {
        "id": dead_id,
        "delivered": report.delivered,
        "failed": failed,
        "dead_letter": store.get_doc(DEAD_LETTER_KIND, dead_id) is not None,
    }


def discard(store: Store, dead_id: str) -> None:
    """Raises: NotFound."""
    if not store.delete_doc(DEAD_LETTER_KIND, dead_id):
        raise NotFound(f"no dead letter with id {dead_id}", field="dead_letter_id")


def maybe_purge(store: Store, now: float, retention_seconds: float) -> int:
    """Hourly: forget dead letters whose last failure is older than the retention."""
    marker = store.get_doc(META_KIND, "dead_letters_purged")
    if marker is not None and now - float(marker.get("at", 0)) < PURGE_EVERY_SECONDS:
        return 0
    purged = 0
    for doc in store.list_docs(DEAD_LETTER_KIND):
        if now - float(doc.get("last_failed_at", now)) > retention_seconds:
            purged += store.delete_doc(DEAD_LETTER_KIND, str(doc["id"]))
    store.put_doc(META_KIND, "dead_letters_purged", {"at": now})
    return purged


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    raw = doc.get("message")
    message: dict[str, Any] = raw if isinstance(raw, dict) else {}
    return {
        **doc,
        "rule_id": message.get("rule_id"),
        "rule_name": message.get("rule_name"),
        "status": message.get("status"),
        "severity": message.get("severity"),
        "replayable": bool(message),
        "last_failed_at": float(doc.get("last_failed_at", 0.0)),
    }


def _encode_cursor(at: float, dead_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([at, dead_id]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        at, dead_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return -float(at), str(dead_id)
    except (ValueError, TypeError, binascii.Error):
        raise Invalid("cursor is not one this list returned", field="cursor") from None
