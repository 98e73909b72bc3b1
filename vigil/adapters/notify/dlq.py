"""The notify function's SQS dead-letter queue, read by the alerts function (AWS only) so what Lambda
gave up on shows in the dead-letter list and can be replayed. A few ReceiveMessage calls per read
(10 messages each, no long polling); received messages stay hidden for `VISIBILITY_SECONDS`, so two
readers at once do not import the same message twice, and are deleted once stored.
botocore is imported lazily and the client built on first use (STYLE: no clients at import time).
Imports: standard library, `vigil.adapters.aws` (botocore, lazily).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_BATCHES = 5
VISIBILITY_SECONDS = 60


@dataclass(frozen=True)
class SqsMessage:
    message_id: str
    body: str
    sent_at: float
    receipt_handle: str


class SqsDeadLetterQueue:
    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self.queue_url = queue_url
        self._client = client

    def _sqs(self) -> Any:
        if self._client is None:
            from vigil.adapters import aws

            self._client = aws.client("sqs")
        return self._client

    def receive(self) -> list[SqsMessage]:
        out: list[SqsMessage] = []
        for _ in range(MAX_BATCHES):
            got = (
                self._sqs()
                .receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=0,
                    VisibilityTimeout=VISIBILITY_SECONDS,
                    MessageSystemAttributeNames=["SentTimestamp"],
                )
                .get("Messages", [])
            )
            out.extend(
                SqsMessage(
                    message_id=str(m["MessageId"]),
                    body=str(m.get("Body", "")),
                    sent_at=float(m.get("Attributes", {}).get("SentTimestamp", 0)) / 1000.0,
                    receipt_handle=str(m["ReceiptHandle"]),
                )
                for m in got
            )
            if len(got) < 10:
                break
        return out

    def delete(self, message: Any) -> None:
        self._sqs().delete_message(QueueUrl=self.queue_url, ReceiptHandle=message.receipt_handle)
