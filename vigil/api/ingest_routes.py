"""Ingest routes (ingest key): `POST /v1/samples`, `POST /v1/errors`.

`POST /v1/samples` validates its body once, itself: Powertools' validation is off for it (it would
build a pydantic model per sample, ~10x the cost of storing them) and `checked_samples` runs the fast
path (`services.fast_samples`), falling back to the `SampleBatch` model for any body the fast path
does not accept, so every refusal is the model's, worded as Powertools' validation worded it.
"""

# Route modules import Powertools at module level: its validation reads the annotations, which
# must resolve at registration time (no `from __future__ import annotations` here).
from typing import Annotated, Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from vigil.api.app import parse_json_body, vigil_context
from vigil.api.docs import documented
from vigil.api.errors import validation_message
from vigil.api.openapi_bodies import model_request_body
from vigil.domain.batches import check_idempotency_key
from vigil.domain.errors import Invalid
from vigil.domain.models import Accepted, ErrorBatch, SampleBatch
from vigil.services.fast_samples import fast_checked_batch
from vigil.services.ingest import CheckedBatch, checked_batch, ingest_errors, store_batch


def checked_samples(text: str, now: float, retention_seconds: float) -> CheckedBatch:
    """The checked batch of a `POST /v1/samples` body: the fast path's, else the model path's.

    Raises:
        Invalid: the body is not a valid batch (the model path's message and field).
    """
    fast = fast_checked_batch(text, now, retention_seconds)
    return fast if fast is not None else model_checked_samples(text, now, retention_seconds)


def model_checked_samples(text: str, now: float, retention_seconds: float) -> CheckedBatch:
    """The model path: the body parsed as every JSON body is, validated by `SampleBatch` as Powertools
    validated a `Body()`, with the same error wording.

    Raises:
        Invalid: the body is not a valid batch.
    """
    value: Any = parse_json_body(text) if text else None
    if value is None:  # no body, or JSON null: Powertools reported both as a missing body
        raise Invalid("body: is required", field="body")
    try:
        # `from_attributes` as Powertools validates a Body(): a non-object gets its wording
        batch = SampleBatch.model_validate(value, from_attributes=True)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        message, field = validation_message(errors)
        raise Invalid(message, field=field) from exc
    return checked_batch(batch, now, retention_seconds)


def register(app: APIGatewayHttpResolver) -> None:
    @app.post(
        "/v1/samples",
        tags=["ingest"],
        summary="Push a batch of samples (whole batch or nothing)",
        responses=documented(202, Accepted, "Accepted"),
        enable_validation=False,  # validated once, by `checked_samples`
        openapi_extensions=model_request_body("SampleBatch"),
    )
    def post_samples() -> Response[dict[str, Any]]:
        ctx = vigil_context(app)
        event = app.current_event
        now = ctx.clock.now()
        # the header first (a cheap check), then the body
        idem = check_idempotency_key(event.headers.get("idempotency-key"))
        batch = checked_samples(event.body or "", now, ctx.config.retention_seconds)
        accepted, duplicate = store_batch(ctx.store, ctx.config, batch, now, idem, changes=ctx.changes)
        # Powertools Metrics share one buffer per process; the handler's log_metrics flushes it (EMF).
        # Only in AWS: with metrics disabled Powertools never clears the buffer and prints every 100.
        if ctx.config.emit_metrics:
            Metrics(namespace="Vigil").add_metric(
                name="SamplesAccepted", unit=MetricUnit.Count, value=0 if duplicate else accepted
            )
        return Response(202, "application/json", {"accepted": accepted, "duplicate": duplicate})

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
