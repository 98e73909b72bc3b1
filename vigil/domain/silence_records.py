"""Silences as the evaluator applies them: plain frozen records built from stored documents, without
pydantic, and `muting`, which picks the silence that mutes an alert.

The pydantic models in `vigil.domain.silences` validate what users write (the API); the alerts
function's scheduled evaluation only reads silences back, every minute, and works on these records
(`silence_record` from a stored document, `Silence.record()` from a model: the same function over its
dump). Why apart: see `vigil.domain.rule_records`. Cron iteration uses `cronsim` (imported when a cron
window is checked). Imports: standard library only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
MATCH_OPS = ("=", "!=", "=~", "!~")


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`.

    Raises:
        ValueError: no such zone (the message says what to use).
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name like 'Europe/Paris')") from None


class Silencing(Protocol):
    """What muting needs of a silence: a record, or a pydantic `Silence` (the API's, and tests')."""

    @property
    def id(self) -> str: ...

    def active(self, now: float) -> bool: ...

    def matches(self, labels: Mapping[str, str]) -> bool: ...

    def expired(self, now: float) -> bool: ...


@dataclass(frozen=True, slots=True)
class MatcherRecord:
    """`name op value`; `=~`/`!~` are full-match regular expressions."""

    name: str
    value: str
    op: str = "="

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        hit = re.fullmatch(self.value, actual) is not None
        return hit if self.op == "=~" else not hit


@dataclass(frozen=True, slots=True)
class WeeklyRecord:
    """Days + `HH:MM` to `HH:MM` in a time zone; an end before the start crosses midnight."""

    days: tuple[str, ...]
    start: str
    end: str
    timezone: str = "UTC"

    def active(self, now: float) -> bool:
        tz = zone(self.timezone)
        local = datetime.fromtimestamp(now, tz)
        start, end = _time(self.start), _time(self.end)
        for back in (0, 1):  # a window that started yesterday may still be open (crosses midnight)
            day = local.date() - timedelta(days=back)
            if WEEKDAYS[day.weekday()] not in self.days:
                continue
            begin = datetime.combine(day, start, tz)
            finish = datetime.combine(day + timedelta(days=1 if end <= start else 0), end, tz)
            if begin.timestamp() <= now < finish.timestamp():
                return True
        return False


@dataclass(frozen=True, slots=True)
class CronRecord:
    """A 5-field cron expression for each window's start + the window's length in seconds."""

    cron: str
    duration: float
    timezone: str = "UTC"

    def active(self, now: float) -> bool:
        from cronsim import CronSim

        local = datetime.fromtimestamp(math.floor(now) + 1, zone(self.timezone))
        try:  # reverse iteration is exclusive of its start, hence the + 1 s above
            last_start = next(CronSim(self.cron, local, reverse=True))
        except StopIteration:
            return False
        return last_start.timestamp() <= now < last_start.timestamp() + self.duration


@dataclass(frozen=True, slots=True)
class SilenceRecord:
    """One stored silence: all matchers must match; active in `[starts_at, ends_at)`, and inside
    that range only in its weekly or cron windows when it recurs."""

    id: str
    matchers: tuple[MatcherRecord, ...]
    starts_at: float
    ends_at: float | None = None
    weekly: WeeklyRecord | None = None
    cron: CronRecord | None = None

    def active(self, now: float) -> bool:
        if now < self.starts_at or (self.ends_at is not None and now >= self.ends_at):
            return False
        if self.weekly is not None:
            return self.weekly.active(now)
        if self.cron is not None:
            return self.cron.active(now)
        return True

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels) for m in self.matchers)

    def expired(self, now: float) -> bool:
        return self.ends_at is not None and now >= self.ends_at


def silence_record(doc: Mapping[str, Any]) -> SilenceRecord:
    """The record of a stored silence document (as `Silence.model_dump()` wrote it: times in epoch
    seconds, durations in seconds).

    Raises:
        ValueError: the document was not written by Vigil (the caller logs and skips it).
    """
    try:
        weekly, cron = doc.get("weekly"), doc.get("cron")
        record = SilenceRecord(
            id=str(doc["id"]),
            matchers=tuple(
                MatcherRecord(name=str(m["name"]), value=str(m["value"]), op=str(m.get("op", "=")))
                for m in doc["matchers"]
            ),
            starts_at=float(doc["starts_at"]),
            ends_at=None if doc.get("ends_at") is None else float(doc["ends_at"]),
            weekly=None
            if weekly is None
            else WeeklyRecord(
                days=tuple(str(d) for d in weekly["days"]),
                start=str(weekly["start"]),
                end=str(weekly["end"]),
                timezone=str(weekly.get("timezone", "UTC")),
            ),
            cron=None
            if cron is None
            else CronRecord(
                cron=str(cron["cron"]),
                duration=float(cron["duration"]),
                timezone=str(cron.get("timezone", "UTC")),
            ),
        )
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"not a silence document: {type(exc).__name__}: {exc}") from None
    if not record.matchers or any(m.op not in MATCH_OPS for m in record.matchers):
        raise ValueError("not a silence document: matchers")
    return record


def alert_labels(rule_id: str, rule_name: str, severity: str, group: Mapping[str, str]) -> dict[str, str]:
    """The label set silences match against."""
    return {**group, "rule_id": rule_id, "rule": rule_name, "severity": severity}


def muting(silences: Sequence[Silencing], labels: Mapping[str, str], now: float) -> Silencing | None:
    """The first active silence that matches, if any."""
    for silence in silences:
        if silence.active(now) and silence.matches(labels):
            return silence
    return None


def _time(hhmm: str) -> time:
    hours, minutes = hhmm.split(":")
    return time(int(hours), int(minutes))
