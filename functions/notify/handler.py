"""notify function: subscribed to the SNS alerts topic; delivers each notification to Slack, Discord,
signed webhooks and the in-app inbox, logging through Powertools like the other functions. A retryable
failure raises so Lambda's async retries and the SQS DLQ keep it; a final one becomes a dead letter.
Imports the delivery path alone (`vigil.alerting.notify_entry`): no evaluator, no pydantic."""

from vigil import cold_start  # noqa: F401  # first: pauses the cycle collector for the cold start
from vigil.alerting.notify_entry import notify_handler
from vigil.lambda_logging import logged

handler = logged("notify", notify_handler)

__all__ = ["handler"]
