"""Viewer routes for traces: `GET /api/traces` (the list, filtered) and `GET /api/traces/{trace_id}`
(every span of one trace, for the dashboard's waterfall). Reads the `TraceStore` only."""

# Route modules import Powertools at module level: its validation reads the annotations, which
# must resolve at registration time (no `from __future__ import annotations` here).
import re
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from vigil.api.app import vigil_context
from vigil.api.docs import documented
from vigil.domain.errors import Invalid, NotFound
from vigil.domain.timeparse import parse_instant
from vigil.domain.traces import summarize

TRACE_ID_RE = re.compile(r"^[0-9a-f]{32}$")
MAX_LIMIT = 500


def register(app: APIGatewayHttpResolver) -> None:
    @app.get(
        "/api/traces",
        tags=["traces"],
        summary="Recent traces (root span, service, duration, error), newest first",
        responses=documented(),
    )
    def list_traces(
        service: Annotated[str | None, Query(max_length=256, description="Root span's service")] = None,
        route: Annotated[str | None, Query(max_length=256, description="`http.route` of the trace")] = None,
        status: Annotated[
            Literal["error", "ok"] | None, Query(description="error: any span failed; ok: none did")
        ] = None,
        min_duration_ms: Annotated[
            float | None, Query(ge=0, description="Only traces at least this long")
        ] = None,
        from_: Annotated[
            str | None,
            Query(alias="from", max_length=64, description="Started at or after: epoch, RFC 3339, -1h"),
        ] = None,
        to: Annotated[
            str | None, Query(max_length=64, description="Started at or before: epoch, RFC 3339, now")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    ) -> dict[str, Any]:
        ctx = vigil_context(app)
        now = ctx.clock.now()
        start = parse_instant(from_, now=now, field="from") if from_ else None
        end = parse_instant(to, now=now, field="to") if to else None
        if start is not None and end is not None and start > end:
            raise Invalid("from must not be after to", field="from")
        summaries = ctx.trace_store.list_traces(
            service=service,
            route=route,
            status=status,
            min_duration_ms=min_duration_ms,
            start=start,
            end=end,
            limit=limit,
            now=now,
        )
        return {"traces": [t.to_json() for t in summaries]}

    @app.get(
        "/api/traces/<trace_id>",
        tags=["traces"],
        summary="Every span of one trace, ordered by start (parent ids, attributes, events)",
        responses=documented(),
    )
    def get_trace(
        trace_id: Annotated[
            str,
            Path(
                max_length=64,
                description="32 lowercase hex characters",
                json_schema_extra={"pattern": TRACE_ID_RE.pattern},  # documented; checked below
            ),
        ],
    ) -> dict[str, Any]:
        # Checked here rather than with `Path(pattern=...)` so the message says what an id looks like.
        if not TRACE_ID_RE.match(trace_id):
            raise Invalid("trace_id must be 32 lowercase hex characters", field="trace_id")
        ctx = vigil_context(app)
        spans = ctx.trace_store.get_trace(trace_id, now=ctx.clock.now())
        if not spans:
            raise NotFound(f"no trace {trace_id} (unknown, or older than 7 days)", field="trace_id")
        return {
            "trace_id": trace_id,
            "summary": summarize(spans).to_json(),
            # `error` spares the waterfall from re-deriving it (status ERROR or HTTP >= 500).
            "spans": [{**s.to_json(), "error": s.is_error} for s in spans],
        }
