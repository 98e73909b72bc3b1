"""Generic webhook: the stable SPEC §5 body (Alertmanager-like; extended, never renamed) signed with
`X-Vigil-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` using the channel secret, so a
receiver can check origin and refuse replays older than a few minutes (`verify_signature`).
Imports: standard library, `vigil.adapters.notify`, `vigil.domain`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from vigil.adapters.notify.base import NotifyContext, alert_url
from vigil.adapters.notify.redact import url_secrets
from vigil.domain.alerts import Notification
from vigil.domain.channels import ChannelLike
from vigil.domain.timeparse import iso

SIGNATURE_HEADER = "X-Vigil-Signature"


def webhook_body(n: Notification, public_url: str) -> dict[str, Any]:
    return {
        "version": 1,
        "status": n.status,
        "rule": {"id": n.rule_id, "name": n.rule_name, "severity": n.severity},
        "group": n.group,
        "value": n.value,
        "threshold": n.threshold,
        "started_at": iso(n.started_at),
        "resolved_at": iso(n.resolved_at) if n.resolved_at is not None else None,
        "url": alert_url(public_url, n),
        # extensions (SPEC: extend, don't rename)
        "id": n.id,
        "kind": n.kind,
        "message": n.message,
        "flapping": n.flapping,
    }


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: str, header: str, body: bytes, now: float, tolerance: float = 300.0) -> bool:
    """What a receiver does: recompute, compare in constant time, refuse stale timestamps."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), f"t={timestamp},v1={parts.get('v1', '')}")


class WebhookNotifier:
    def __init__(self, channel: ChannelLike, ctx: NotifyContext) -> None:
        self.channel, self.ctx = channel, ctx

    def send(self, notification: Notification) -> None:
        body = json.dumps(
            webhook_body(notification, self.ctx.public_url), separators=(",", ":"), sort_keys=True
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Vigil-Webhook/1",
            "X-Vigil-Notification-Id": notification.id,
        }
        if self.channel.secret:
            headers[SIGNATURE_HEADER] = sign(self.channel.secret, int(self.ctx.clock()), body)
        self.ctx.http.post(
            self.channel.target,
            body,
            headers,
            what=f"webhook channel {self.channel.id}",
            secrets=[*url_secrets(self.channel.target), self.channel.secret],
        )
