"""alerts function: rules, silences, channels, alert state and inbox APIs, and the scheduled evaluator
(EventBridge, every minute). Thin by design: routes in `vigil.api.alert_routes`, logic in
`vigil.alerting` and `vigil.domain`."""

from vigil.alerting.entry import scheduled_evaluation
from vigil.api.functions import ALERTS
from vigil.api.lambda_entry import lambda_handler

handler = lambda_handler("alerts", ALERTS, scheduled=scheduled_evaluation)
