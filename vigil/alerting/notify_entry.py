"""The notify function's SNS handler: one SNS record per notification, delivered by
`vigil.alerting.delivery`.

Apart from `vigil.alerting.entry` (the evaluator's entry points, which load the rule models, the
evaluator and pydantic) so that `functions/notify/handler.py` imports only the delivery path: a stored
channel is read without pydantic (`vigil.domain.channels.stored_channel`), which keeps the notify cold
start under its 500 ms goal (docs/deploy.md, "Cold starts"). Imports: `vigil.alerting` (delivery and
dead letters), `vigil.wiring`.
"""

from __future__ import annotations

import json
from typing import Any

from vigil.alerting import dead_letters
from vigil.alerting.delivery import deliver, notify_context
from vigil.domain.errors import DeliveryError
from vigil.wiring import app_context

LAMBDA_SAFETY_MARGIN_SECONDS = 3.0  # stop retrying in time to record the outcome before the timeout


def notify_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The notify function: one SNS record per notification.

    Raises:
        DeliveryError: a channel failed retryably; Lambda retries the event and then sends it to the
            on-failure destination (SQS DLQ). Channels already served are skipped on the retry.
    """
    ctx = app_context()

    def remaining() -> float:
        return float(context.get_remaining_time_in_millis()) / 1000.0 - LAMBDA_SAFETY_MARGIN_SECONDS

    delivered, errors = 0, []
    for record in event.get("Records", []):
        try:
            message = json.loads(record["Sns"]["Message"])
            report = deliver(
                message,
                ctx.store,
                ctx.config,
                context=notify_context(ctx.config, ctx.store, remaining=remaining),
            )
            delivered += len(report.delivered)
        except DeliveryError as exc:
            errors.append(exc.message)
        except Exception as exc:  # a poison message: retrying cannot help, so it is a dead letter now
            body = record.get("Sns", {}).get("Message")
            message = _parsed(body)
            why = {"*": f"{type(exc).__name__}: {exc}"}
            dead_id = None if message else f"sns-{record.get('Sns', {}).get('MessageId', 'unknown')}"
            dead_letters.record(ctx.store, message, why, ctx.clock.now(), source="notify", dead_id=dead_id)
    if errors:
        raise DeliveryError("; ".join(errors), retryable=True)
    return {"delivered": delivered}


def _parsed(body: Any) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("id") else None
