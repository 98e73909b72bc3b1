"""Size limits and name patterns of what the API accepts, apart from the pydantic models that enforce
them (`vigil.domain.models` re-exports them): the API's body check (`vigil.api.app`) runs on every
function's cold path, including health's, and the stores and the alerts function's minute tick use
them too; none of those may load pydantic for a constant. Standard library only."""

from __future__ import annotations

import re

MAX_BODY_BYTES = 1024 * 1024  # one request body, after inflating gzip (OTLP paths may send 4x)
MAX_BATCH_SAMPLES = 5000
MAX_LABELS = 10
MAX_LABEL_VALUE_LEN = 256
MAX_FUTURE_SECONDS = 600.0
# Values (and histogram sums) beyond this magnitude are refused at ingest: a sum or average of up to
# 1e8 of them stays finite, so the series API, the export and the rollups (both stores) never meet an
# overflowed aggregate. Real measurements are many orders of magnitude below it.
MAX_ABS_VALUE = 1e300

# `:` for Prometheus recording-rule names (`job:http_requests:rate5m`) arriving by remote-write
METRIC_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:\-/]{0,199}$")
LABEL_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")
HOST_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")
BATCH_ID_RE = re.compile(r"^[A-Za-z0-9_.:\-]+$")
MAX_BATCH_ID_LEN = 128
MAX_PUSH_INTERVAL_SECONDS = 86400
