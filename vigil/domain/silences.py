"""Silences and recurring maintenance windows: they mute notifications, never state or history.

A silence has matchers (all must match) over an alert's labels — `rule_id`, `rule` (the rule name),
`severity` and the group labels (e.g. `host`) — and either a fixed `[starts_at, ends_at)` range or a
recurrence inside it: `weekly` (days + `HH:MM` to `HH:MM` in a time zone; an end before the start
crosses midnight) or `cron` (a 5-field cron expression for each window's start + a duration, evaluated
in a time zone). Cron iteration uses `cronsim` (small, pure Python, DST-aware, well tested) rather than
a parser of our own.

These pydantic models validate what users write (the API); what a silence does (`active`, `matches`)
lives in `vigil.domain.silence_records`, whose plain records the scheduled evaluation reads without
pydantic; each model's `record()` gives its record and its methods delegate to it. Imports: standard
library, pydantic, cronsim (lazily), `vigil.domain`.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    field_validator,
    model_validator,
)

from vigil.domain.errors import Invalid
from vigil.domain.silence_records import (
    HHMM,
    CronRecord,
    MatcherRecord,
    SilenceRecord,
    WeeklyRecord,
    silence_record,
    zone,
)
from vigil.domain.timeparse import parse_duration, parse_instant

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _check_zone(name: str) -> str:
    zone(name)
    return name


TimeZone = Annotated[str, AfterValidator(_check_zone), Field(description="IANA time zone, e.g. Europe/Paris")]


class Matcher(BaseModel):
    """`name op value`; `=~`/`!~` are full-match regular expressions."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    value: str = Field(max_length=256)
    op: Literal["=", "!=", "=~", "!~"] = "="

    @model_validator(mode="after")
    def _regex(self) -> Matcher:
        if self.op in ("=~", "!~"):
            try:
                re.compile(self.value)
            except re.error as exc:
                raise ValueError(f"matcher {self.name}: invalid regular expression: {exc}") from None
        return self

    def record(self) -> MatcherRecord:
        return MatcherRecord(name=self.name, value=self.value, op=self.op)

    def matches(self, labels: Mapping[str, str]) -> bool:
        return self.record().matches(labels)


class Weekly(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: list[Weekday] = Field(min_length=1, max_length=7)
    start: str = Field(description="HH:MM local time")
    end: str = Field(description="HH:MM local time; before start means the window crosses midnight")
    timezone: TimeZone = "UTC"

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not HHMM.match(value):
            raise ValueError("must be HH:MM (24-hour)")
        return value

    def record(self) -> WeeklyRecord:
        return WeeklyRecord(days=tuple(self.days), start=self.start, end=self.end, timezone=self.timezone)

    def active(self, now: float) -> bool:
        return self.record().active(now)


class CronWindow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cron: str = Field(min_length=9, max_length=100, description="5-field cron: each window's start")
    duration: float = Field(description="Window length; '30m', '2h' or seconds")
    timezone: TimeZone = "UTC"

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError("duration must be like '30m', '2h' or seconds")
        seconds = parse_duration(value, field="duration")
        if seconds <= 0:
            raise ValueError("duration must be positive")
        return seconds

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        from cronsim import CronSim, CronSimError

        try:
            CronSim(value, datetime(2026, 1, 1))
        except CronSimError as exc:
            raise ValueError(f"invalid cron expression: {exc}") from None
        return value

    def record(self) -> CronRecord:
        return CronRecord(cron=self.cron, duration=self.duration, timezone=self.timezone)

    def active(self, now: float) -> bool:
        return self.record().active(now)


class Silence(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=lambda: "s-" + uuid.uuid4().hex[:12], pattern=r"^[A-Za-z0-9_.:\-]{1,64}$")
    matchers: list[Matcher] = Field(min_length=1, max_length=20)
    starts_at: StrictFloat | StrictInt | str = Field(description="Epoch seconds or RFC 3339")
    ends_at: StrictFloat | StrictInt | str | None = Field(default=None, description="None: open-ended")
    weekly: Weekly | None = None
    cron: CronWindow | None = None
    comment: str = Field(default="", max_length=1000)
    created_by: str = Field(default="", max_length=200)

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _instant(cls, value: float | str | None, info: Any) -> float | None:
        if value is None:
            return None
        try:  # relative forms ("now-1h") resolve against NaN and are refused: silences need real times
            return parse_instant(value, now=math.nan, field=info.field_name)
        except Invalid as exc:
            raise ValueError(exc.message) from None

    @model_validator(mode="after")
    def _consistent(self) -> Silence:
        if self.weekly is not None and self.cron is not None:
            raise ValueError("a silence recurs either weekly or by cron, not both")
        if self.ends_at is None and self.weekly is None and self.cron is None:
            raise ValueError("ends_at is required unless the silence recurs (weekly or cron)")
        if self.ends_at is not None and float(self.ends_at) <= float(self.starts_at):
            raise ValueError("ends_at must be after starts_at")
        return self

    def record(self) -> SilenceRecord:
        """The plain record the evaluator reads (`vigil.domain.silence_records`)."""
        return silence_record(self.model_dump())

    def active(self, now: float) -> bool:
        return self.record().active(now)

    def matches(self, labels: Mapping[str, str]) -> bool:
        return self.record().matches(labels)

    def expired(self, now: float) -> bool:
        return self.record().expired(now)
