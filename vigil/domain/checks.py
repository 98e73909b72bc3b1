"""Synthetic checks: what an admin writes (`POST /api/checks`), how it is validated, and the pure
bookkeeping of a check's results (status, consecutive failures, per-hour and per-day uptime counters).

A check probes an `http(s)://` URL (method, expected status, optional keyword, headers) or a
`tcp://host:port` port. Durations accept `"30s"`, `"5m"` or seconds and are stored as float seconds.
The result counters live in one small document per check so `GET /api/checks` (uptime over 24 h) and
the status page (90 daily bars) read one document per check, never the samples. The bookkeeping lives
in `vigil.domain.check_runs` (no pydantic: the alerts function's minute tick imports it; re-exported
here). Imports: standard library, pydantic and `vigil.domain` only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator

from vigil.domain.check_runs import DAYS_KEPT, HOURS_KEPT, RunResult, is_due, record_run, uptime_since
from vigil.domain.errors import Invalid
from vigil.domain.timeparse import parse_duration

Method = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
CheckStatus = Literal["up", "down", "pending"]

MAX_INTERVAL = 3600.0  # the default check alert rules look back this far for a check's last result
MAX_TIMEOUT = 30.0
MAX_HEADERS = 20
REDACTED = "********"  # what reads show for a secret-looking header; a PUT sending it keeps the stored one
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key", "x-auth-token"})
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,100}$")  # RFC 9110 token
_STATUS_ITEM = re.compile(r"^\s*(?:([1-5])xx|(\d{3})(?:\s*-\s*(\d{3}))?)\s*$", re.IGNORECASE)


def status_ranges(
    spec: str | int | list[str | int], *, field: str = "expect_status"
) -> list[tuple[int, int]]:
    """`"2xx"` → [(200, 299)]; `"200"`/`200` → [(200, 200)]; `"200-299"`; a list of any of these.

    Raises:
        Invalid: an item is none of these forms, or a range runs backwards.
    """
    items = spec if isinstance(spec, list) else [spec]
    if not items:
        raise Invalid(f"{field} must name at least one status", field=field)
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise Invalid(f"{field} items must be '2xx', '200', '200-299' or a status number", field=field)
        match = _STATUS_ITEM.match(str(item))
        if match is None:
            raise Invalid(f"{field}: {item!r} is not '2xx', '200' or '200-299'", field=field)
        klass, low, high = match.groups()
        start, end = (int(klass) * 100, int(klass) * 100 + 99) if klass else (int(low), int(high or low))
        if not 100 <= start <= end <= 599:
            raise Invalid(f"{field}: {item!r} is not a range of HTTP statuses (100-599)", field=field)
        out.append((start, end))
    return out


def status_expected(status: int, ranges: list[tuple[int, int]]) -> bool:
    return any(low <= status <= high for low, high in ranges)


@dataclass(frozen=True)
class Target:
    """Where a check's URL points: scheme (`http`, `https`, `tcp`), host, port."""

    scheme: str
    host: str
    port: int


def parse_target(url: str, *, field: str = "url") -> Target:
    """Raises:
    Invalid: not an http(s) URL with a host, nor `tcp://host:port`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Invalid(f"{field} has an invalid port", field=field) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https", "tcp") or not parts.hostname:
        raise Invalid(f"{field} must be an http(s):// URL or tcp://host:port", field=field)
    if scheme == "tcp" and (port is None or parts.path not in ("", "/") or parts.query):
        raise Invalid(f"{field}: a TCP check is tcp://host:port, nothing more", field=field)
    if parts.username or parts.password:
        raise Invalid(f"{field} must not carry credentials; use headers", field=field)
    default = 443 if scheme == "https" else 80
    return Target(scheme, parts.hostname, port if port is not None else default)


def _as_value_error(check: Callable[[], object], field: str) -> None:
    """Run a domain parser inside a pydantic validator: its `Invalid` becomes the ValueError pydantic
    reports under the field (the field's name is not repeated in the message)."""
    try:
        check()
    except Invalid as exc:
        raise ValueError(exc.message.removeprefix(f"{field}: ")) from exc


class CheckIn(BaseModel):
    """Body of `POST /api/checks` and `PUT /api/checks/{id}` (wire names; durations as given)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")
    url: str = Field(min_length=1, max_length=2000)
    method: Method = "GET"
    interval: float = Field(default=60.0, description="Seconds between runs; accepts '30s', '5m'")
    timeout: float = Field(default=10.0, description="Seconds one run may take; accepts '10s'")
    expect_status: str | StrictInt | list[str | StrictInt] = Field(
        default="2xx", description="'2xx', '200', '200-299', or a list of these"
    )
    keyword: str | None = Field(default=None, min_length=1, max_length=200)
    headers: dict[str, str] = Field(default_factory=dict, max_length=MAX_HEADERS)
    tls_expiry_days: StrictInt = Field(default=14, ge=0, le=365)
    public: StrictBool = False

    @field_validator("interval", "timeout", mode="before")
    @classmethod
    def _duration(cls, value: Any, info: Any) -> float:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError(f"{info.field_name} must be a duration like '30s', '5m' or seconds")
        try:
            return parse_duration(value, field=info.field_name)
        except Invalid as exc:
            raise ValueError(exc.message) from exc

    @field_validator("url")
    @classmethod
    def _url(cls, url: str) -> str:
        _as_value_error(lambda: parse_target(url), "url")
        return url

    @field_validator("expect_status")
    @classmethod
    def _statuses(cls, spec: str | int | list[str | int]) -> str | int | list[str | int]:
        _as_value_error(lambda: status_ranges(spec), "expect_status")
        return spec

    @field_validator("headers")
    @classmethod
    def _headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"header name {name!r} is not a valid HTTP token")
            if len(value) > 4000 or any(c in value for c in "\r\n\x00"):
                raise ValueError(f"header {name!r}: at most 4000 characters, no line breaks")
        return headers

    def checked(self, min_interval: float) -> CheckIn:
        """The cross-field rules that depend on the deployment (`min_interval`: 10 s locally, 60 s in AWS).

        Raises:
            Invalid: naming the field.
        """
        if not min_interval <= self.interval <= MAX_INTERVAL:
            raise Invalid(
                f"interval must be between {min_interval:g}s and {MAX_INTERVAL:g}s here", field="interval"
            )
        if not 0 < self.timeout <= min(MAX_TIMEOUT, self.interval):
            raise Invalid(
                f"timeout must be more than 0 and at most {MAX_TIMEOUT:g}s and the interval", field="timeout"
            )
        if parse_target(self.url).scheme == "tcp" and (self.keyword or self.headers):
            raise Invalid(
                "a TCP check has no keyword or headers", field="keyword" if self.keyword else "headers"
            )
        return self


class Check(CheckIn):
    """A stored check as `GET /api/checks` answers it: the definition plus its latest results."""

    id: str
    created_at: str
    updated_at: str
    version: int
    status: CheckStatus = "pending"
    last_checked_at: str | None = None
    last_duration_ms: float | None = None
    uptime_24h: float | None = Field(default=None, description="Percent of runs up over the last 24 h")
    last_error: str | None = None
    tls_days_left: float | None = None
    last_status_code: int | None = Field(default=None, description="HTTP status of the last run (http(s))")
    last_phases_ms: dict[str, float] | None = Field(
        default=None, description="The last run's phases in ms (dns, connect, tls, ttfb, total)"
    )


__all__ = [
    "DAYS_KEPT",
    "HOURS_KEPT",
    "Check",
    "CheckIn",
    "RunResult",
    "Target",
    "is_due",
    "parse_target",
    "record_run",
    "status_expected",
    "status_ranges",
    "uptime_since",
]
