"""Slack incoming webhook with a Block Kit message (header, text, facts, link). The webhook URL is the
credential: it only ever appears redacted. Imports: standard library, `vigil.adapters.notify`."""

from __future__ import annotations

import json
from typing import Any

from vigil.adapters.notify.base import NotifyContext, alert_url, facts
from vigil.adapters.notify.redact import url_secrets
from vigil.domain.alerts import Notification
from vigil.domain.channels import ChannelLike


def slack_payload(n: Notification, public_url: str) -> dict[str, Any]:
    url = alert_url(public_url, n)
    return {
        "text": f"{n.title()}: {n.message}"[:3000],  # fallback for notifications and old clients
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": n.title()[:150], "emoji": True}},
            {"type": "section", "text": {"type": "mrkdwn", "text": n.message[:3000] or n.title()}},
            {
                "type": "section",
                "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in facts(n)][:10],
            },
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"<{url}|Open in Vigil> · rule `{n.rule_id}`"}],
            },
        ],
    }


class SlackNotifier:
    def __init__(self, channel: ChannelLike, ctx: NotifyContext) -> None:
        self.channel, self.ctx = channel, ctx

    def send(self, notification: Notification) -> None:
        body = json.dumps(slack_payload(notification, self.ctx.public_url)).encode()
        self.ctx.http.post(
            self.channel.target,
            body,
            {"Content-Type": "application/json"},
            what=f"slack channel {self.channel.id}",
            secrets=url_secrets(self.channel.target),
        )
