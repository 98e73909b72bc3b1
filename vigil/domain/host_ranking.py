"""The overview's per-host KPI values (`/api/metrics` `by_host`): every up host's current value of a
KPI, ranked worst (highest) first, listed up to a limit, with how many hosts there are and how many fall
in each threshold level, so the overview's answer stays the same size whatever the fleet's.

Levels are the dashboard's colours (`HostGrid.levelOf`): `bad` above the threshold, `warn` above 80 % of
it, else `ok`, compared in display units on the rounded value the answer lists.

Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

WARN_FRACTION = 0.8


def level(value: float, threshold: float) -> str:
    return "bad" if value > threshold else "warn" if value > threshold * WARN_FRACTION else "ok"


def ranked_hosts(
    values: Mapping[str, float], *, scale: float, unit: str, threshold: float | None, limit: int | None
) -> dict[str, Any]:
    """`{"unit", "hosts": [{"host", "value"}] worst first (at most `limit`), "count": hosts with a
    value, "levels": {"ok", "warn", "bad"} counts (when the KPI has a threshold)}`; values in display
    units (`value * scale`, 4 decimals). Ties rank by host name."""
    ranked = sorted(values.items(), key=lambda hv: (-hv[1], hv[0]))
    display = [(h, round(v * scale, 4)) for h, v in ranked]
    shown = display if limit is None else display[:limit]
    out: dict[str, Any] = {
        "unit": unit,
        "hosts": [{"host": h, "value": v} for h, v in shown],
        "count": len(display),
    }
    if threshold is not None:
        levels = dict.fromkeys(("ok", "warn", "bad"), 0)
        for _, v in display:
            levels[level(v, threshold)] += 1
        out["levels"] = levels
    return out
