"""Pydantic v2 models of what crosses Vigil's boundaries; re-exports the internal records.

Wire models (`SampleIn`, `SampleBatch`, `ErrorReportIn`, ...) are strict: `false` is not a number,
NaN/inf are refused, unknown fields are refused where a typo would silently lose data. Internal records
(`Point`, `Histogram`, ...) are small frozen dataclasses in `vigil.domain.records`, imported from
there by code that must not load pydantic.

Imports: standard library, pydantic and `vigil.domain.records` only.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, field_validator, model_validator

# The limits live in `limits` (no pydantic: the stores and the evaluator need them); re-exported here.
from vigil.domain.limits import (
    BATCH_ID_RE as BATCH_ID_RE,
)
from vigil.domain.limits import (
    HOST_RE as HOST_RE,
)
from vigil.domain.limits import (
    LABEL_KEY_RE as LABEL_KEY_RE,
)
from vigil.domain.limits import (
    MAX_ABS_VALUE as MAX_ABS_VALUE,
)
from vigil.domain.limits import (
    MAX_BATCH_ID_LEN as MAX_BATCH_ID_LEN,
)
from vigil.domain.limits import (
    MAX_BATCH_SAMPLES as MAX_BATCH_SAMPLES,
)
from vigil.domain.limits import (
    MAX_FUTURE_SECONDS as MAX_FUTURE_SECONDS,
)
from vigil.domain.limits import (
    MAX_LABEL_VALUE_LEN as MAX_LABEL_VALUE_LEN,
)
from vigil.domain.limits import (
    MAX_LABELS as MAX_LABELS,
)
from vigil.domain.limits import (
    MAX_PUSH_INTERVAL_SECONDS as MAX_PUSH_INTERVAL_SECONDS,
)
from vigil.domain.limits import (
    METRIC_NAME_RE as METRIC_NAME_RE,
)

# The internal records moved to `records` (no pydantic); re-exported for the modules using both.
from vigil.domain.records import (
    ApiKeyRecord as ApiKeyRecord,
)
from vigil.domain.records import (
    BulkLoad as BulkLoad,
)
from vigil.domain.records import (
    ErrorEvent as ErrorEvent,
)
from vigil.domain.records import (
    ErrorGroup as ErrorGroup,
)
from vigil.domain.records import (
    Histogram as Histogram,
)
from vigil.domain.records import (
    HostInfo as HostInfo,
)
from vigil.domain.records import (
    Point as Point,
)
from vigil.domain.records import (
    SeriesBlock as SeriesBlock,
)

Number = StrictFloat | StrictInt
HostName = Annotated[str, Field(pattern=HOST_RE.pattern, description="Host name: letters, digits, . _ : -")]


def _finite(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number (NaN and infinity are not allowed)")
    return float(value)


def storable_value(value: float, what: str) -> float:
    """`value` when finite and within ±`MAX_ABS_VALUE`.

    Raises:
        ValueError: otherwise, saying which limit (`what` names the value).
    """
    _finite(value, what)
    if abs(value) > MAX_ABS_VALUE:
        raise ValueError(f"{what} must be within ±{MAX_ABS_VALUE:g} (larger values would overflow sums)")
    return float(value)


_VALUE_RANGE: dict[str, Any] = {"minimum": -MAX_ABS_VALUE, "maximum": MAX_ABS_VALUE}


class HistogramIn(BaseModel):
    """An explicit-bucket histogram (OpenTelemetry layout): `counts` has one more entry than `bounds`."""

    model_config = ConfigDict(extra="forbid")

    bounds: list[Number] = Field(max_length=200)
    counts: list[StrictInt] = Field(min_length=1, max_length=201)
    sum: Number = Field(json_schema_extra=_VALUE_RANGE)
    count: StrictInt = Field(ge=0)
    min: Number | None = None
    max: Number | None = None

    @model_validator(mode="after")
    def _consistent(self) -> HistogramIn:
        for b in self.bounds:
            _finite(b, "histogram bounds")
        if any(b2 <= b1 for b1, b2 in zip(self.bounds, self.bounds[1:], strict=False)):
            raise ValueError("histogram bounds must be strictly increasing")
        if len(self.counts) != len(self.bounds) + 1:
            raise ValueError("histogram counts must have exactly one more entry than bounds")
        if any(c < 0 for c in self.counts):
            raise ValueError("histogram counts must not be negative")
        if sum(self.counts) != self.count:
            raise ValueError("histogram count must equal the sum of counts")
        storable_value(self.sum, "histogram sum")
        return self


class SampleIn(BaseModel):
    """One sample as pushed to `POST /v1/samples`: either `value` or `histogram`."""

    # `_one_of` below, documented in the schema: a non-null value or a non-null histogram, not both
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["value"],
                    "properties": {"value": {"type": "number"}, "histogram": {"type": "null"}},
                },
                {
                    "required": ["histogram"],
                    "properties": {"histogram": {"type": "object"}, "value": {"type": "null"}},
                },
            ]
        },
    )

    metric: str = Field(pattern=METRIC_NAME_RE.pattern, description="OpenTelemetry-style metric name")
    value: Number | None = Field(default=None, json_schema_extra=_VALUE_RANGE)
    histogram: HistogramIn | None = None
    ts: Number | str | None = Field(default=None, description="Epoch seconds or RFC 3339; default now")
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("value")
    @classmethod
    def _finite_value(cls, v: float | None) -> float | None:
        return None if v is None else storable_value(v, "value")

    @field_validator("labels")
    @classmethod
    def _labels(cls, labels: dict[str, str]) -> dict[str, str]:
        if len(labels) > MAX_LABELS:
            raise ValueError(f"at most {MAX_LABELS} labels per sample")
        for key, val in labels.items():
            if not LABEL_KEY_RE.match(key):
                raise ValueError(f"label name {key!r} must match {LABEL_KEY_RE.pattern}")
            if len(val) > MAX_LABEL_VALUE_LEN:
                raise ValueError(f"label {key!r} value is longer than {MAX_LABEL_VALUE_LEN} characters")
        return labels

    @model_validator(mode="after")
    def _one_of(self) -> SampleIn:
        if (self.value is None) == (self.histogram is None):
            raise ValueError("a sample needs exactly one of 'value' or 'histogram'")
        return self


class SampleBatch(BaseModel):
    """Body of `POST /v1/samples`."""

    model_config = ConfigDict(extra="forbid")

    host: HostName
    batch_id: str | None = Field(default=None, max_length=MAX_BATCH_ID_LEN, pattern=BATCH_ID_RE.pattern)
    samples: list[SampleIn] = Field(min_length=1, max_length=MAX_BATCH_SAMPLES)
    push_interval: StrictFloat | StrictInt | None = Field(
        default=None,
        gt=0,
        le=MAX_PUSH_INTERVAL_SECONDS,
        description="Seconds between this client's pushes (`vigil agent` sends its --flush); without it "
        "the interval is learned from the pushes",
    )


class Accepted(BaseModel):
    accepted: int
    duplicate: bool = False


class ErrorReportIn(BaseModel):
    """One application error for `POST /v1/errors` (the JSON API; OTLP spans feed the same store)."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=200, description="Exception class, e.g. ValueError")
    message: str = Field(default="", max_length=4000)
    stack: str | None = Field(default=None, max_length=32000)
    service: str | None = Field(default=None, max_length=128)
    host: HostName | None = None
    ts: Number | str | None = None
    trace_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    span_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{16}$")
    attributes: dict[str, str] = Field(default_factory=dict, max_length=20)


class ErrorBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    errors: list[ErrorReportIn] = Field(min_length=1, max_length=1000)


class KeyCreate(BaseModel):
    """Body of `POST /api/keys`. `role` extends the SPEC shape: `viewer` mints a dashboard token."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    role: Literal["ingest", "viewer"] = "ingest"


class KeyOut(BaseModel):
    id: str
    name: str
    role: str
    created_at: str
    last_used_at: str | None = None
    revoked: bool = False


class KeyCreated(KeyOut):
    key: str = Field(description="The secret; shown only in this response")
