"""alerts function: rules, silences, channels, alert state, inbox and synthetic-check APIs, and the
scheduled job (EventBridge, every minute: due checks, the evaluator, the status page). Thin by design:
routes in `vigil.api.alert_routes` and `vigil.api.check_routes`, logic in `vigil.alerting`,
`vigil.services` and `vigil.domain`."""

from vigil import cold_start  # noqa: F401  # first: pauses the cycle collector for the cold start
from vigil.alerting.entry import scheduled_evaluation
from vigil.api.functions import ALERTS
from vigil.api.lambda_entry import lambda_handler

handler = lambda_handler("alerts", ALERTS, scheduled=scheduled_evaluation)
