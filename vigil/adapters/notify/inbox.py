"""The in-app inbox: each notification becomes one `inbox` document (id = notification id, so a retry
overwrites instead of duplicating), read by `GET /api/notifications`. Imports: `vigil.adapters.notify`,
`vigil.domain`, `vigil.ports`."""

from __future__ import annotations

from vigil.adapters.notify.base import NotifyContext, alert_url
from vigil.domain.alerts import Notification
from vigil.domain.channels import ChannelLike
from vigil.domain.errors import DeliveryError, VigilError

INBOX_KIND = "inbox"


class InboxNotifier:
    def __init__(self, channel: ChannelLike | None, ctx: NotifyContext) -> None:
        self.channel, self.ctx = channel, ctx

    def send(self, notification: Notification) -> None:
        if self.ctx.store is None:
            raise DeliveryError("inbox: no store configured", retryable=False)
        existing = self.ctx.store.get_doc(INBOX_KIND, notification.id)
        doc = {
            **notification.to_message(),
            "title": notification.title(),
            "url": alert_url(self.ctx.public_url, notification),
            "read": bool(existing and existing.get("read")),
            "received_at": self.ctx.clock(),
        }
        try:
            self.ctx.store.put_doc(INBOX_KIND, notification.id, doc)
        except VigilError as exc:
            raise DeliveryError(f"inbox: store refused: {exc.message}", retryable=True) from None
