"""`SnsPublisher`: the evaluator's fan-out in AWS. Publishes each notification once to the alerts
topic with message attributes (severity, status, kind as String; channel ids as String.Array) that the
subscription filter policies route on: the notify Lambda takes everything, a native e-mail or SMS
subscription takes `{"channels": ["<its channel id>"]}`.

The message uses `MessageStructure=json`: the notify Lambda gets the JSON notification ("default"),
e-mail subscribers a readable text, SMS a short line. botocore is imported lazily and the client built on
first publish (STYLE: no clients at import time). `SnsSubscriptions` turns e-mail and SMS channels
into such native subscriptions (`{"channels": ["<channel id>"]}` on the message attributes).
Imports: standard library, `vigil.adapters.aws` (botocore, lazily), `vigil.domain`, `vigil.adapters.notify`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from vigil.adapters.notify.base import alert_url, facts, subject_line
from vigil.adapters.notify.sms import sms_text
from vigil.domain.alerts import Notification

Attributes = dict[str, str | list[str]]
log = logging.getLogger(__name__)


def _client() -> Any:
    from vigil.adapters import aws

    return aws.client("sns", retry_mode="adaptive", max_attempts=5)


def channel_filter_policy(channel_id: str) -> str:
    """Matches a notification whose `channels` String.Array attribute lists this channel."""
    return json.dumps({"channels": [channel_id]})


def message_attributes(attributes: Attributes) -> dict[str, dict[str, str]]:
    out = {}
    for name, value in attributes.items():
        if isinstance(value, list):
            if value:  # SNS refuses an empty attribute value
                out[name] = {"DataType": "String.Array", "StringValue": json.dumps(value)}
        elif value:
            out[name] = {"DataType": "String", "StringValue": value}
    return out


class SnsPublisher:
    def __init__(self, topic_arn: str, public_url: str, client: Any | None = None) -> None:
        self.topic_arn, self.public_url = topic_arn, public_url
        self._client = client

    def _sns(self) -> Any:
        if self._client is None:
            self._client = _client()
        return self._client

    def publish(self, message: dict[str, Any], attributes: Attributes) -> None:
        n = Notification.from_message(message)
        text = "\n".join(
            [n.message, "", *(f"{k}: {v}" for k, v in facts(n)), "", alert_url(self.public_url, n)]
        )
        body = {"default": json.dumps(message), "email": text, "sms": sms_text(n)}
        # SNS: printable ASCII on one line, under 100 characters
        subject = subject_line(n.title().encode("ascii", "replace").decode(), 99)
        self._sns().publish(
            TopicArn=self.topic_arn,
            Message=json.dumps(body),
            MessageStructure="json",
            Subject=subject,
            MessageAttributes=message_attributes(attributes),
        )


class SnsSubscriptions:
    """E-mail and SMS channels in AWS: one subscription of the alerts topic per channel, filtered on
    its id, so SNS delivers the `email`/`sms` variant `SnsPublisher` puts in each message."""

    def __init__(self, topic_arn: str, client: Any | None = None) -> None:
        self.topic_arn = topic_arn
        self._client = client

    def _sns(self) -> Any:
        if self._client is None:
            self._client = _client()
        return self._client

    def subscribe(self, protocol: str, endpoint: str, channel_id: str) -> str:
        response = self._sns().subscribe(
            TopicArn=self.topic_arn,
            Protocol=protocol,
            Endpoint=endpoint,
            Attributes={
                "FilterPolicy": channel_filter_policy(channel_id),
                "FilterPolicyScope": "MessageAttributes",
            },
            ReturnSubscriptionArn=True,  # the real ARN even while an e-mail awaits confirmation
        )
        return str(response["SubscriptionArn"])

    def unsubscribe(self, subscription_arn: str) -> None:
        try:
            self._sns().unsubscribe(SubscriptionArn=subscription_arn)
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code not in ("NotFound", "InvalidParameter"):
                raise
            # Gone already, or an e-mail never confirmed (SNS drops those after 3 days by itself).
            log.warning("subscription of a deleted channel not removed: %s", code)
