"""Query parameters shared by the routes that read a series (`/api/metrics/series`, `/api/export`):
one declaration, so both document and validate them the same way."""

# Powertools resolves these annotations when routes register (no `from __future__ import annotations`).
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from vigil.domain.limits import METRIC_NAME_RE

MetricParam = Annotated[str, Query(max_length=200, pattern=METRIC_NAME_RE.pattern, description="Metric name")]
HostParam = Annotated[str | None, Query(max_length=2000, description="Host, or comma-separated hosts")]
LabelsParam = Annotated[str | None, Query(max_length=2000, description="Label filter k=v,k2=v2")]
FromParam = Annotated[str, Query(alias="from", max_length=64, description="Start: epoch, RFC 3339, -24h")]
ToParam = Annotated[str, Query(max_length=64, description="End: epoch, RFC 3339, now")]
StepParam = Annotated[str | None, Query(max_length=16, description="Bucket width: 60, 5m, 1h")]
GroupByParam = Annotated[str | None, Query(max_length=200, description="host (default), none, or labels")]
