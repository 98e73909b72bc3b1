"""Ingest routes (ingest key): `POST /v1/samples`, `POST /v1/errors`."""

# Route modules import Powertools at module level: its validation reads the annotations, which
# must resolve at registration time (no `from __future__ import annotations` here).
from typing import Annotated

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit

from vigil.api.app import vigil_context
from vigil.api.docs import documented
from vigil.domain.models import Accepted, ErrorBatch, SampleBatch
from vigil.services.ingest import ingest_errors, ingest_samples


def register(app: APIGatewayHttpResolver) -> None:
    @app.post(
        "/v1/samples",
        tags=["ingest"],
        summary="Push a batch of samples (whole batch or nothing)",
        responses=documented(202, Accepted, "Accepted"),
    )
    def post_samples(batch: Annotated[SampleBatch, Body()]) -> Response[Accepted]:
        ctx = vigil_context(app)
        idem = app.current_event.headers.get("idempotency-key")
        accepted, duplicate = ingest_samples(
            ctx.store, ctx.config, batch, ctx.clock.now(), idem, changes=ctx.changes
        )
        # Powertools Metrics share one buffer per process; the handler's log_metrics flushes it (EMF).
        # Only in AWS: with metrics disabled Powertools never clears the buffer and prints every 100.
        if ctx.config.emit_metrics:
            Metrics(namespace="Vigil").add_metric(
                name="SamplesAccepted", unit=MetricUnit.Count, value=0 if duplicate else accepted
            )
        return Response(202, "application/json", Accepted(accepted=accepted, duplicate=duplicate))

    @app.post(
        "/v1/errors",
        tags=["ingest"],
        summary="Report application errors (grouped by fingerprint)",
        responses=documented(202, Accepted, "Accepted"),
    )
    def post_errors(batch: Annotated[ErrorBatch, Body()]) -> Response[Accepted]:
        ctx = vigil_context(app)
        count = ingest_errors(ctx.store, ctx.config, batch, ctx.clock.now())
        if ctx.config.emit_metrics:
            Metrics(namespace="Vigil").add_metric(
                name="ErrorReportsAccepted", unit=MetricUnit.Count, value=count
            )
        return Response(202, "application/json", Accepted(accepted=count))
