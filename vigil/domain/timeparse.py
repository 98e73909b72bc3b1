"""Parsing of timestamps, query bounds and durations as users write them.

Accepted forms: epoch seconds (int/float or numeric string), RFC 3339 / ISO 8601 (`2026-11-26T10:00:00Z`),
`now`, relative offsets (`-24h`, `-15m`, `now-7d`), and durations (`30s`, `5m`, `1h`, `7d`, `1w` or
plain seconds). Standard library only.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from functools import lru_cache

from vigil.domain.errors import Invalid

# Times outside year 1 .. 9999 cannot be shown as RFC 3339, and bounds such as -1e308 overflow every
# step and bucket computation: any parsed time must lie in [0, MAX_EPOCH_SECONDS].
MAX_EPOCH_SECONDS = 253402300799.0  # 9999-12-31T23:59:59Z
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_RELATIVE = re.compile(r"^\s*(?:now)?\s*([+-])\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")


def parse_duration(value: str | float | int, *, field: str) -> float:
    """`'5m'` → 300.0. Plain numbers are seconds.

    Raises:
        Invalid: not a non-negative duration.
    """
    if isinstance(value, bool):
        raise Invalid(f"{field} must be a duration like '30s', '5m', '1h' or seconds", field=field)
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(value)
        if not match:
            raise Invalid(
                f"{field} must be a duration like '30s', '5m', '1h' or seconds, got {value!r}", field=field
            )
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    if not math.isfinite(seconds) or seconds < 0:
        raise Invalid(f"{field} must be a non-negative duration", field=field)
    return seconds


def parse_instant(value: str | float | int, *, now: float, field: str) -> float:
    """Parse a timestamp or query bound into epoch seconds.

    Raises:
        Invalid: the value is none of the accepted forms, or outside 1970 .. 9999 (naming `field`).
    """
    if isinstance(value, bool):
        raise Invalid(f"{field} must be epoch seconds or an RFC 3339 time", field=field)
    if isinstance(value, int | float):
        ts = float(value)
    else:
        text = value.strip()
        if text == "now" or text == "":
            return now
        rel = _RELATIVE.match(text)
        if rel:
            sign = -1.0 if rel.group(1) == "-" else 1.0
            return _in_range(now + sign * float(rel.group(2)) * _UNITS[rel.group(3)], field)
        try:
            ts = float(text)
        except ValueError:
            ts = _parse_iso(text, field=field)
    return _in_range(ts, field)


def _in_range(ts: float, field: str) -> float:
    if not math.isfinite(ts):
        raise Invalid(f"{field} must be a finite time", field=field)
    if not 0.0 <= ts <= MAX_EPOCH_SECONDS:
        raise Invalid(
            f"{field} must be a time between 1970-01-01 and 9999-12-31 (epoch seconds 0 .. "
            f"{MAX_EPOCH_SECONDS:.0f}), got {ts:g}",
            field=field,
        )
    return ts


def _parse_iso(text: str, *, field: str) -> float:
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError as exc:
        raise Invalid(
            f"{field} must be epoch seconds, RFC 3339 (2026-11-26T10:00:00Z) or relative (-24h), "
            f"got {text!r}",
            field=field,
        ) from exc
    if parsed.tzinfo is None:  # a bare ISO time means UTC, as in Prometheus and Grafana
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


@lru_cache(maxsize=8192)
def iso(ts: float) -> str:
    """Epoch seconds → RFC 3339 UTC with millisecond precision. Remembered: the same times come back
    on every refresh (each host's first and last sample in the host list: ~200 a request)."""
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
