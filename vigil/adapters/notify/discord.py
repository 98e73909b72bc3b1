"""Discord webhook with one embed coloured by severity (green when resolved). The webhook URL is the
credential: it only ever appears redacted. Imports: standard library, `vigil.adapters.notify`."""

from __future__ import annotations

import json
from typing import Any

from vigil.adapters.notify.base import NotifyContext, alert_url, facts
from vigil.adapters.notify.redact import url_secrets
from vigil.domain.alerts import Notification
from vigil.domain.channels import ChannelLike
from vigil.domain.timeparse import iso

COLOURS = {"critical": 0xE01E5A, "warning": 0xECB22E, "info": 0x36C5F0, "resolved": 0x2EB67D}


def discord_payload(n: Notification, public_url: str) -> dict[str, Any]:
    colour = COLOURS["resolved"] if n.status == "resolved" else COLOURS.get(n.severity, COLOURS["info"])
    when = n.resolved_at if n.resolved_at is not None else n.started_at
    return {
        "username": "Vigil",
        "allowed_mentions": {"parse": []},  # a template must not be able to ping @everyone
        "embeds": [
            {
                "title": n.title()[:256],
                "description": n.message[:4096],
                "url": alert_url(public_url, n),
                "color": colour,
                "fields": [{"name": k, "value": v[:1024], "inline": True} for k, v in facts(n)],
                "timestamp": iso(when),
                "footer": {"text": f"Vigil · rule {n.rule_id}"},
            }
        ],
    }


class DiscordNotifier:
    def __init__(self, channel: ChannelLike, ctx: NotifyContext) -> None:
        self.channel, self.ctx = channel, ctx

    def send(self, notification: Notification) -> None:
        body = json.dumps(discord_payload(notification, self.ctx.public_url)).encode()
        self.ctx.http.post(
            self.channel.target,
            body,
            {"Content-Type": "application/json"},
            what=f"discord channel {self.channel.id}",
            secrets=url_secrets(self.channel.target),
        )
