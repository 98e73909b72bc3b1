"""The `Publisher` port: how the evaluator hands a notification to the fan-out (SNS in AWS, the local
dispatcher in local mode). Kept here rather than in `vigil.ports` while that module is being edited;
it can move there unchanged. Standard library only."""

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
