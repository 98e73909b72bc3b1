"""The public status page's content, as a pure function of the public checks' result documents and
the alert history: each component's current state, 90 daily uptime bars (UTC days, oldest first) and
the recent incidents ("Check down" alerts: start, end, duration, component).

Only what an admin marked public goes in, and only by the check's name: no URL, host name, metric
name, error text or rule id (a test reads the whole page for them). Standard library only.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from vigil.domain.check_runs import DAYS_KEPT

INCIDENT_RULE = "default-check-down"
MAX_INCIDENTS = 20
DAY = 86400.0


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _date(day: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(day * DAY))


def build_status(
    components: Sequence[tuple[str, Mapping[str, Any] | None]],
    history: Iterable[Mapping[str, Any]],
    now: float,
    days: int = DAYS_KEPT,
) -> dict[str, Any]:
    """`components`: (public check name, its result document or None), in display order.
    `history`: alert transitions (`vigil.domain.alerts.Transition.to_json`), any order."""
    today = int(now // DAY)
    out_components = []
    for name, state in components:
        counters = (state or {}).get("days", {})
        bars = []
        up_sum = total_sum = 0
        for day in range(today - days + 1, today + 1):
            up, total = counters.get(str(day), (0, 0))
            up_sum, total_sum = up_sum + up, total_sum + total
            bars.append({"date": _date(day), "uptime": round(100.0 * up / total, 2) if total else None})
        out_components.append(
            {
                "name": name,
                "status": (state or {}).get("status", "pending"),
                "uptime": round(100.0 * up_sum / total_sum, 3) if total_sum else None,
                "days": bars,
            }
        )
    names = {name for name, _ in components}
    incidents = _incidents(history, names, now - days * DAY)
    down = [c["name"] for c in out_components if c["status"] == "down"]
    return {
        "generated_at": _iso(now),
        "status": "outage"
        if down and len(down) == len(out_components)
        else "degraded"
        if down
        else "operational",
        "components": out_components,
        "incidents": incidents,
    }


def _incidents(history: Iterable[Mapping[str, Any]], names: set[str], since: float) -> list[dict[str, Any]]:
    """Each firing → resolved span of the "Check down" alert of a public component, newest first."""
    relevant = sorted(
        (
            h
            for h in history
            if h.get("rule_id") == INCIDENT_RULE and (h.get("group") or {}).get("check") in names
        ),
        key=lambda h: float(h.get("at", 0)),
    )
    open_: dict[str, float] = {}
    spans: list[tuple[str, float, float | None]] = []
    for h in relevant:
        name, at = str(h["group"]["check"]), float(h["at"])
        if h.get("to") == "firing" and name not in open_:
            open_[name] = at
        elif h.get("to") in ("resolved", "inactive") and name in open_:
            spans.append((name, open_.pop(name), at))
    spans += [(name, start, None) for name, start in open_.items()]
    spans = [s for s in spans if (s[2] if s[2] is not None else float("inf")) >= since]
    spans.sort(key=lambda s: s[1], reverse=True)
    return [
        {
            "component": name,
            "started_at": _iso(start),
            "resolved_at": _iso(end) if end is not None else None,
            "duration_s": round(end - start) if end is not None else None,
        }
        for name, start, end in spans[:MAX_INCIDENTS]
    ]
