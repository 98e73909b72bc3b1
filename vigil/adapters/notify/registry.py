"""Channel type → notifier. The only place that knows every notifier class.
Imports: `vigil.adapters.notify`, `vigil.domain`."""

from __future__ import annotations

from vigil.adapters.notify.base import Notifier, NotifyContext
from vigil.adapters.notify.discord import DiscordNotifier
from vigil.adapters.notify.email import EmailNotifier
from vigil.adapters.notify.inbox import InboxNotifier
from vigil.adapters.notify.slack import SlackNotifier
from vigil.adapters.notify.sms import SmsNotifier
from vigil.adapters.notify.webhook import WebhookNotifier
from vigil.domain.channels import ChannelLike


def build_notifier(channel: ChannelLike, ctx: NotifyContext) -> Notifier:
    classes: dict[
        str,
        type[SlackNotifier | DiscordNotifier | WebhookNotifier | EmailNotifier | SmsNotifier | InboxNotifier],
    ] = {
        "slack": SlackNotifier,
        "discord": DiscordNotifier,
        "webhook": WebhookNotifier,
        "email": EmailNotifier,
        "sms": SmsNotifier,
        "inbox": InboxNotifier,
    }
    return classes[channel.type](channel, ctx)
