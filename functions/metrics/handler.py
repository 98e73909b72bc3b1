"""metrics function: ingest (`/v1/*`) and queries (`/api/*` except alerting), and the hourly rollup run
(EventBridge `RollupHourly`). Thin by design: the routes live in `vigil.api`, the logic in
`vigil.services` and `vigil.domain`."""

from vigil.api import scheduled
from vigil.api.functions import METRICS
from vigil.api.lambda_entry import lambda_handler

handler = lambda_handler("metrics", METRICS, scheduled=scheduled.rollups)
