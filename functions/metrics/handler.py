"""metrics function: ingest (`/v1/*`) and queries (`/api/*` except alerting). The same code is the
jobs function (`infra/functions.py`), which EventBridge invokes for the fleet tier, the cost readout
and the sharded rollups (`vigil.api.scheduled`). Thin by design: the routes live in `vigil.api`, the logic in
`vigil.services` and `vigil.domain`."""

from vigil import cold_start  # noqa: F401  # first: pauses the cycle collector for the cold start
from vigil.api import scheduled
from vigil.api.functions import METRICS
from vigil.api.lambda_entry import lambda_handler

handler = lambda_handler("metrics", METRICS, scheduled=scheduled.scheduled_jobs)
