"""The `Publisher` port: how the evaluator hands a notification to the fan-out (SNS in AWS, the local
dispatcher in local mode); the `Subscriptions` port: how e-mail and SMS channels become native
subscriptions of the alerts topic in AWS (none in local mode). Kept here rather than in `vigil.ports`
while that module is being edited; they can move there unchanged. Standard library only."""

from __future__ import annotations

from typing import Any, Protocol

Attributes = dict[str, str | list[str]]


class Publisher(Protocol):
    def publish(self, message: dict[str, Any], attributes: Attributes) -> None:
        """Hand one notification (`Notification.to_message()`) to the fan-out. `attributes` are the SNS
        message attributes subscription filter policies route on (severity, channels, status, kind).

        Raises:
            Exception: whatever the transport raises; the caller keeps the message for the next run.
        """
        ...


class Subscriptions(Protocol):
    """Native subscriptions of the alerts topic (AWS): SNS itself delivers e-mail and SMS, routed by a
    filter policy on the channel id."""

    def subscribe(self, protocol: str, endpoint: str, channel_id: str) -> str:
        """Subscribe `endpoint` (`email` address or `sms` E.164 number) with a filter policy that takes
        only notifications listing `channel_id`. Returns the subscription ARN (also while an e-mail
        subscription awaits its confirmation click).

        Raises:
            Exception: whatever the transport raises (the channel is then not created).
        """
        ...

    def unsubscribe(self, subscription_arn: str) -> None:
        """Remove a subscription; one that is already gone is not an error."""
        ...
