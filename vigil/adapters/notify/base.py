"""What every notifier shares: the `Notifier` interface (`send(notification)` raising `DeliveryError`),
the context a notifier is built with, and the helpers that format values and links the same way on
every channel. Imports: standard library, `vigil.domain`, `vigil.ports`, `vigil.adapters.notify.http`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from vigil.adapters.notify.http import HttpClient
from vigil.domain.alerts import Notification
from vigil.domain.timeparse import iso
from vigil.ports import Store

SmsSender = Callable[[str, str], None]  # (E.164 number, text)


class Notifier(Protocol):
    def send(self, notification: Notification) -> None:
        """Deliver one notification.

        Raises:
            DeliveryError: redacted reason; `retryable` per the shared classifier.
        """
        ...


@dataclass
class NotifyContext:
    public_url: str
    http: HttpClient
    store: Store | None = None
    smtp_url: str | None = None
    mail_from: str = "vigil@localhost"
    sms: SmsSender | None = None  # None: SMS cannot be sent from here (see `sms_unavailable`)
    sms_unavailable: str = "SMS needs AWS SNS credentials; none are configured in this process"
    clock: Callable[[], float] = field(default=time.time)


def subject_line(text: str, limit: int) -> str:
    """`text` as one header-safe line of at most `limit` characters: line breaks, tabs and other
    control characters (a rule named with a newline) become single spaces, as e-mail headers and SNS
    subjects refuse them."""
    line = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return line[:limit] or "Vigil notification"


def alert_url(public_url: str, n: Notification) -> str:
    return f"{public_url.rstrip('/')}/#/alerts?rule={n.rule_id}"


def facts(n: Notification) -> list[tuple[str, str]]:
    """The (label, value) pairs every rich channel shows."""
    out = [
        ("Severity", n.severity),
        ("Value", n.display(n.value)),
        ("Threshold", f"{n.op} {n.display(n.threshold)}"),
        ("Started", iso(n.started_at)),
    ]
    if n.resolved_at is not None:
        out.append(("Resolved", iso(n.resolved_at)))
    if n.group:
        out.append(("Group", ", ".join(f"{k}={v}" for k, v in sorted(n.group.items()))))
    return out
