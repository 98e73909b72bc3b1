"""Prometheus remote-write receiver (ingest key): `POST /api/v1/write`.

The body is a snappy-compressed protobuf, so the route declares no Powertools `Body()`: the raw
bytes and headers go to `vigil.services.remote_write`. The key check and the raw-body limit (413) ran
before Powertools, in `FunctionEntry`. Success is 204 with no body, as Prometheus expects; 4xx (which
Prometheus does not retry) means nothing was stored; 503 + `Retry-After` is retried.
"""

# Route modules import Powertools at module level: its validation reads the annotations, which
# must resolve at registration time (no `from __future__ import annotations` here).
import logging

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from vigil.api.app import raw_body, vigil_context
from vigil.api.docs import ERROR_RESPONSES
from vigil.api.openapi_bodies import raw_request_body
from vigil.services.remote_write import ingest_remote_write

log = logging.getLogger("vigil.api.remote_write")
_STORED: OpenAPIResponse = {"description": "Stored (stale markers, NaN and samples past retention skipped)"}


def register(app: APIGatewayHttpResolver) -> None:
    @app.post(
        "/api/v1/write",
        tags=["ingest"],
        summary="Prometheus remote-write 1.0 (snappy-compressed protobuf WriteRequest)",
        responses={204: _STORED, **ERROR_RESPONSES},
        enable_validation=False,  # nothing to validate: no parameters, and the body is ours to decode
        openapi_extensions=raw_request_body(
            {"application/x-protobuf": {"schema": {"type": "string", "format": "binary"}}},
            "A prometheus.WriteRequest, protobuf, `Content-Encoding: snappy` (block format)",
        ),
    )
    def post_remote_write() -> Response[str]:
        ctx = vigil_context(app)
        headers = app.current_event.headers  # lower-case names (API Gateway HTTP API, local gateway)
        result = ingest_remote_write(
            ctx.store,
            ctx.config,
            raw_body(app.current_event.raw_event),
            headers.get("content-type"),
            headers.get("content-encoding"),
            ctx.clock.now(),
        )
        skipped = result.stale_markers + result.not_a_number + result.too_old
        if skipped:
            log.info(
                "remote-write: not stored %d stale markers, %d NaN/Inf, %d older than retention",
                result.stale_markers,
                result.not_a_number,
                result.too_old,
            )
        return Response(204, None, "")
