"""`SnsPublisher`: the evaluator's fan-out in AWS. Publishes each notification once to the alerts
topic with message attributes (severity, status, kind as String; channel ids as String.Array) that the
subscription filter policies route on: the notify Lambda takes everything, a native e-mail or SMS
subscription takes `{"channels": ["<its channel id>"]}`.

The message uses `MessageStructure=json`: the notify Lambda gets the JSON notification ("default"),
e-mail subscribers a readable text, SMS a short line. boto3 is imported lazily and the client built on
first publish (STYLE: no clients at import time). Imports: standard library, boto3 (lazily),
`vigil.domain`, `vigil.adapters.notify`.
"""

from __future__ import annotations

import json
from typing import Any

from vigil.adapters.notify.base import alert_url, facts
from vigil.adapters.notify.sms import sms_text
from vigil.domain.alerts import Notification

Attributes = dict[str, str | list[str]]


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
            import boto3
            from botocore.config import Config as BotoConfig

            self._client = boto3.client(
                "sns", config=BotoConfig(retries={"mode": "adaptive", "max_attempts": 5})
            )
        return self._client

    def publish(self, message: dict[str, Any], attributes: Attributes) -> None:
        n = Notification.from_message(message)
        text = "\n".join(
            [n.message, "", *(f"{k}: {v}" for k, v in facts(n)), "", alert_url(self.public_url, n)]
        )
        body = {"default": json.dumps(message), "email": text, "sms": sms_text(n)}
        subject = n.title().encode("ascii", "replace").decode()[:100]  # SNS: ASCII, < 100 chars
        self._sns().publish(
            TopicArn=self.topic_arn,
            Message=json.dumps(body),
            MessageStructure="json",
            Subject=subject,
            MessageAttributes=message_attributes(attributes),
        )
