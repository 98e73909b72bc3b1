"""The pure bookkeeping of a synthetic check's results: one run (`RunResult`), the check's result
document after it (status, consecutive failures, up/total counters per hour and per UTC day), uptime
over the last hours, and when the check is due again.

Apart from the pydantic check models (`vigil.domain.checks`, which re-exports these) so the alerts
function's minute tick decides what is due without loading pydantic. Also the document kinds the
checks are stored under. Imports: standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CHECK_KIND = "check"  # a check's definition (`CheckIn`)
CHECK_STATE_KIND = "check_state"  # its result document (`record_run`)
HOURS_KEPT = 24
DAYS_KEPT = 90


@dataclass(frozen=True)
class RunResult:
    """One run of one check. `phases` are seconds (`dns`, `connect`, `tls`, `ttfb`, `total`); `error`
    is None when the check is up."""

    check_id: str
    at: float
    up: bool
    phases: dict[str, float]
    error: str | None = None
    status_code: int | None = None
    tls_days_left: float | None = None


def record_run(state: dict[str, Any] | None, result: RunResult) -> dict[str, Any]:
    """The check's result document after `result` (pure; the input is not modified): status, last run,
    consecutive failures, and up/total counters per hour (24 kept) and per UTC day (90 kept)."""
    old = state or {}
    hour, day = str(int(result.at // 3600)), str(int(result.at // 86400))
    hours = {k: list(v) for k, v in old.get("hours", {}).items() if int(k) > int(hour) - HOURS_KEPT}
    days = {k: list(v) for k, v in old.get("days", {}).items() if int(k) > int(day) - DAYS_KEPT}
    for counters, key in ((hours, hour), (days, day)):
        up, total = counters.get(key, [0, 0])
        counters[key] = [up + int(result.up), total + 1]
    return {
        "id": result.check_id,
        "status": "up" if result.up else "down",
        "last_checked_at": result.at,
        "last_duration_ms": round(result.phases.get("total", 0.0) * 1000.0, 3),
        "last_error": result.error,
        "status_code": result.status_code,
        "phases_ms": {k: round(v * 1000.0, 3) for k, v in result.phases.items()},
        # the last certificate read: a run that fails before the handshake keeps what is known
        "tls_days_left": result.tls_days_left
        if result.tls_days_left is not None
        else old.get("tls_days_left"),
        "emitted_at": result.at,
        "consecutive_failures": 0 if result.up else int(old.get("consecutive_failures", 0)) + 1,
        "hours": hours,
        "days": days,
    }


def uptime_since(state: dict[str, Any] | None, now: float, hours: int = 24) -> float | None:
    """Percent of runs up in the last `hours` whole hours including this one; None: no run."""
    counters = (state or {}).get("hours", {})
    current = int(now // 3600)
    up = total = 0
    for key, (u, t) in counters.items():
        if current - hours < int(key) <= current:
            up, total = up + u, total + t
    return None if total == 0 else round(100.0 * up / total, 3)


def is_due(state: dict[str, Any] | None, interval: float, now: float) -> bool:
    """A check runs when it never ran or its interval has passed since its last run (half a second of
    slack so a scheduler tick that comes a hair early does not skip a whole interval)."""
    last = (state or {}).get("last_checked_at")
    return last is None or now - float(last) >= interval - 0.5
