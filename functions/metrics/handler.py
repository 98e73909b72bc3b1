"""metrics function: ingest (`/v1/*`) and queries (`/api/*` except alerting). Thin by design: the
routes live in `vigil.api`, the logic in `vigil.services` and `vigil.domain`."""

from vigil.api.functions import METRICS
from vigil.api.lambda_entry import lambda_handler

handler = lambda_handler("metrics", METRICS)
