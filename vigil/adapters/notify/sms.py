"""SMS through SNS `Publish(PhoneNumber=...)`. In AWS, SMS normally goes through native SNS
subscriptions; this notifier serves channels delivered by the notify function and local mode. Without
an SNS sender (local mode without AWS credentials) the message is recorded as undelivered with a
clear reason instead of being dropped. Imports: standard library, `vigil.adapters.notify`, `vigil.domain`;
botocore only lazily, in `aws_credentials_available`.
"""

from __future__ import annotations

from typing import Any

from vigil.adapters.notify.base import NotifyContext, SmsSender
from vigil.domain.alerts import Notification
from vigil.domain.channels import ChannelLike
from vigil.domain.errors import DeliveryError

SMS_MAX = 140


def sms_text(n: Notification) -> str:
    text = f"{n.title()}: {n.display(n.value)} ({n.op} {n.display(n.threshold)})"
    return text if len(text) <= SMS_MAX else text[: SMS_MAX - 1] + "…"


def sns_sms_sender(client: Any) -> SmsSender:
    def send(number: str, text: str) -> None:
        client.publish(
            PhoneNumber=number,
            Message=text,
            MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
        )

    return send


def aws_credentials_available() -> bool:
    from vigil.adapters import aws  # botocore loads only when an SMS channel is used

    return aws.credentials_available()


class SmsNotifier:
    def __init__(self, channel: ChannelLike, ctx: NotifyContext) -> None:
        self.channel, self.ctx = channel, ctx

    def send(self, notification: Notification) -> None:
        if self.ctx.sms is None:
            raise DeliveryError(
                f"sms channel {self.channel.id}: not sent: {self.ctx.sms_unavailable}", retryable=False
            )
        try:
            self.ctx.sms(self.channel.target, sms_text(notification))
        except DeliveryError:
            raise
        except Exception as exc:  # botocore's errors: throttling and outages are worth a retry
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
            final = code in ("InvalidParameter", "InvalidParameterValue", "AuthorizationError", "OptedOut")
            raise DeliveryError(
                f"sms channel {self.channel.id}: SNS refused: {code}", retryable=not final
            ) from None
