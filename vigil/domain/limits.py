"""Size limits of what the API accepts, apart from the pydantic models that enforce the rest: the API's
body check (`vigil.api.app`) runs on every function's cold path, including health's, which must not
load pydantic for a constant. Standard library only (nothing at all)."""

from __future__ import annotations

MAX_BODY_BYTES = 1024 * 1024  # one request body, after inflating gzip (OTLP paths may send 4x)
