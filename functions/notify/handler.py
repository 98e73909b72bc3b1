"""notify function: subscribed to the SNS alerts topic; delivers each notification to Slack, Discord,
signed webhooks and the in-app inbox. A failure raises so Lambda's async retries and the SQS DLQ keep it."""

from vigil.alerting.entry import notify_handler as handler

__all__ = ["handler"]
