"""Host reporting cadence: how often a host pushes, learned from its own pushes, and whether it is
`up`, `down` (it missed its cadence) or `stale` (it never established one: a back-fill, a curl).

A host's record keeps its last push and the gaps between its most recent pushes; the interval is the
median of those gaps (robust to one late push or an outage), or the interval the agent declared.
Pushes closer together than `BURST_SECONDS` count as one push: an agent flushing its backlog after an
outage sends several batches back to back, and those gaps say nothing about its cadence.

A host is down once it has been silent for `missed` intervals plus a grace of one evaluation period
and a small push allowance, the grace capped at half an interval: the evaluator only looks every
evaluation period, and the learned interval may be a little longer than the real one (jitter), so
the cap keeps a real stop detected within `(missed + 1) x interval + one evaluation period` of the
last push whatever the two periods are (docs/alerting.md). Missing even two intervals never happens
to a healthy host with this rule's default of three, so the grace is not what prevents false pages.

Pure: time is passed in. Imports: standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

HostStatus = Literal["up", "down", "stale"]

MAX_GAPS = 9  # gaps kept on the host record (odd, so the median is one of them)
MIN_GAPS = 3  # a cadence is established after four pushes
BURST_SECONDS = 2.0  # pushes closer than this are one push (a backlog flushed after an outage)
PUSH_ALLOWANCE_SECONDS = 5.0  # a push in flight while the evaluator looks, a slow network
DEFAULT_MISSED_INTERVALS = 3
# How long a host without a cadence counts as up after a push: the agent's default push period.
FALLBACK_INTERVAL_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Cadence:
    """What a host's record knows of its pushes (receipt times, epoch seconds)."""

    last_push: float | None = None
    gaps: tuple[float, ...] = ()
    declared: float | None = None  # the push interval the latest push declared

    @property
    def interval(self) -> float | None:
        """The declared interval, else the median of the recent gaps once there are `MIN_GAPS`."""
        if self.declared is not None:
            return self.declared
        if len(self.gaps) < MIN_GAPS:
            return None
        return _median(self.gaps)


@dataclass(frozen=True, slots=True)
class Reporting:
    """What the evaluator knows of every host's pushes at one tick, and how often it looks."""

    hosts: Mapping[str, Cadence]
    evaluation_period: float


def observe_push(cadence: Cadence, at: float, declared: float | None = None) -> Cadence:
    """The record after a push received at `at` declaring `declared` (None: nothing). Only the latest
    push's declaration counts, so a client that stops declaring (an agent replaced by an SDK at
    another interval) is judged by its learned gaps, not by a stale promise."""
    if cadence.last_push is None:
        return Cadence(at, (), declared)
    gap = at - cadence.last_push
    if gap < BURST_SECONDS:  # part of the same burst, or an older request finishing late
        return Cadence(max(cadence.last_push, at), cadence.gaps, declared)
    return Cadence(at, (*cadence.gaps, gap)[-MAX_GAPS:], declared)


def from_receipts(receipts: Iterable[float], declared: float | None = None) -> Cadence:
    """The record rebuilt from a set of receipt times (a store that keeps them per batch); `declared`
    is what the latest of them declared."""
    cadence = Cadence()
    for at in sorted(set(receipts)):
        cadence = observe_push(cadence, at)
    return Cadence(cadence.last_push, cadence.gaps, declared)


def silence_limit(interval: float, *, missed: int, evaluation_period: float) -> float:
    """Seconds of silence after which a host with this interval is down."""
    grace = min(evaluation_period + PUSH_ALLOWANCE_SECONDS, interval / 2)
    return missed * interval + grace


def host_status(cadence: Cadence, now: float, *, missed: int, evaluation_period: float) -> HostStatus:
    """`up` while within its limit; `down` past it; `stale` when it never established a cadence and
    has been quiet past the limit of the fallback interval (never `down`: one push promises nothing)."""
    if cadence.last_push is None:
        return "stale"
    silent = now - cadence.last_push
    interval = cadence.interval
    if interval is None:
        limit = silence_limit(FALLBACK_INTERVAL_SECONDS, missed=missed, evaluation_period=evaluation_period)
        return "up" if silent <= limit else "stale"
    limit = silence_limit(interval, missed=missed, evaluation_period=evaluation_period)
    return "up" if silent <= limit else "down"


def _median(values: tuple[float, ...]) -> float:
    """`statistics.median`, without importing `statistics` (and `fractions`, `random`) on every
    function's cold start for this one call."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2
