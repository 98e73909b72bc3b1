"""Pure delta arithmetic for the host agent: counter rates and CPU utilization between two ticks.

Kept apart from psutil so it can be property-tested: every function here takes plain numbers and never
reads a clock or the operating system. Rules shared by all of them: the first tick has no previous value
and so yields no rate (`None`); a counter that went down (reboot, interface removed, driver reset, wrap
that psutil did not absorb) also yields `None` for that tick and becomes the new baseline, because any
number we made up there would be wrong; a result is never negative and never NaN/inf.

Imports: standard library only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple


class CounterReading(NamedTuple):
    """A monotonic counter value read at monotonic time `t` (seconds)."""

    t: float
    value: float


def counter_rate(prev: CounterReading | None, cur: CounterReading) -> float | None:
    """Per-second increase of a counter from `prev` to `cur`, or None when there is no honest answer.

    None when: there is no previous reading (first tick), time did not advance, a value is not finite,
    or the counter went down (a reset or wrap: the increase is unknown, so we skip one tick).
    """
    if prev is None:
        return None
    dt = cur.t - prev.t
    if not (math.isfinite(dt) and dt > 0):
        return None
    if not (math.isfinite(prev.value) and math.isfinite(cur.value)):
        return None
    delta = cur.value - prev.value
    if delta < 0:
        return None
    rate = delta / dt
    return rate if math.isfinite(rate) else None


@dataclass
class CounterRates:
    """Remembers the last reading of each named counter and turns the next one into a rate."""

    _last: dict[str, CounterReading] = field(default_factory=dict)

    def update(self, key: str, value: float, t: float) -> float | None:
        """Record `value` for `key` at time `t`; return the rate since the previous reading (or None)."""
        cur = CounterReading(t, value)
        rate = counter_rate(self._last.get(key), cur)
        # Always move the baseline, also after a reset, so the next tick measures from the new value.
        self._last[key] = cur
        return rate

    def forget(self, key: str) -> None:
        """Drop a counter that disappeared so a later reappearance starts fresh (no bogus first rate)."""
        self._last.pop(key, None)


class CpuTicks(NamedTuple):
    """Cumulative CPU seconds: time spent busy and time in total (busy + idle + iowait)."""

    busy: float
    total: float


def cpu_utilization(prev: CpuTicks | None, cur: CpuTicks) -> float | None:
    """Share of CPU time spent busy between two readings, as a ratio in [0, 1] (OpenTelemetry's unit "1").

    None on the first tick, when no CPU time passed, or when the totals went backwards (reset). The
    kernel's per-field counters can jitter slightly backwards, so the result is clamped into [0, 1].
    """
    if prev is None:
        return None
    d_total = cur.total - prev.total
    d_busy = cur.busy - prev.busy
    if not (math.isfinite(d_total) and math.isfinite(d_busy)) or d_total <= 0:
        return None
    return min(1.0, max(0.0, d_busy / d_total))
