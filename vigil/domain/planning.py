"""Query planning for series: validation, step choice and which resolution (raw or rollups) answers.

A series never returns more than ~`MAX_POINTS` buckets: `choose_step` widens the step to a "nice" value
when needed, `choose_resolution` switches to hourly or daily rollups when the range reaches past the
raw retention or the step is an hour or more (or to the 5-minute fine tier for whole 5-minute steps
inside the raw retention, when the caller can use it), and `plan_step` does both consistently (a
rollup resolution forces the step to a multiple of it). `agg` may name several aggregations
(`p50,p95,p99`, see `parse_aggs`); percentile queries get at most `PERCENTILE_POINTS` automatic
buckets (24 h → 5 minutes), since every percentile point merges histograms.

Standard library only (plus `vigil.domain`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from itertools import pairwise

from vigil.domain.accumulate import AGGS, PERCENTILES
from vigil.domain.errors import Invalid
from vigil.domain.limits import LABEL_KEY_RE
from vigil.domain.rollups import FINE, RESOLUTION_SECONDS, ROLLUP_RETENTION_SECONDS

MAX_POINTS = 2000
PERCENTILE_POINTS = 300  # automatic buckets for percentile queries: 24 h -> 5 min (288), 1 h -> 15 s
MAX_AGGS = len(AGGS)
# Steps a chart can label sensibly; the automatic step is the smallest of these that fits MAX_POINTS.
NICE_STEPS: tuple[float, ...] = (
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    10800,
    21600,
    43200,
    86400,
    2 * 86400,
    7 * 86400,
    14 * 86400,
    30 * 86400,
)

# ---------------------------------------------------------------------------------------- validation


def validate_query(start: float, end: float, step: float | None, agg: str) -> None:
    """Raises:
    Invalid: unknown `agg` (field "agg"), `start` after `end` (field "from"), `step` <= 0 or not finite
    (field "step")."""
    if agg not in AGGS:
        raise Invalid(f"agg must be one of {', '.join(AGGS)}; got {agg!r}", field="agg")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise Invalid("from and to must be finite times", field="from")
    if start > end:
        raise Invalid("from must not be after to", field="from")
    if step is not None and not (math.isfinite(step) and step > 0):
        raise Invalid("step must be a positive number of seconds", field="step")


def parse_aggs(raw: str) -> tuple[str, ...]:
    """`p50,p95,p99` → ("p50", "p95", "p99"): one series per aggregation in one answer, in the order
    asked (duplicates dropped).

    Raises:
        Invalid: an empty or unknown entry (field "agg").
    """
    out: list[str] = []
    for part in raw.split(","):
        agg = part.strip()
        if agg not in AGGS:
            raise Invalid(f"agg must be one or more of {', '.join(AGGS)}; got {part!r}", field="agg")
        if agg not in out:
            out.append(agg)
    return tuple(out)


def default_max_points(aggs: Sequence[str]) -> int:
    """How many buckets an automatic step aims at: fewer for percentiles (each point merges
    histograms; a 24 h chart at 5 minutes is 288 points), `MAX_POINTS` otherwise."""
    return PERCENTILE_POINTS if any(a in PERCENTILES for a in aggs) else MAX_POINTS


def parse_group_by(group_by: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """Normalise `group_by` to a tuple of dimensions: "host" or "label:NAME". None = per stored series.

    Raises:
        Invalid: an empty or malformed dimension (field "group_by").
    """
    if group_by is None:
        return None
    items = group_by.split(",") if isinstance(group_by, str) else [p for g in group_by for p in g.split(",")]
    dims: list[str] = []
    for raw in items:
        item = raw.strip()
        if item == "" and isinstance(group_by, str):
            continue
        if item == "none":
            continue
        name = item[6:] if item.startswith("label:") else item
        if item == "host":
            dim = "host"
        elif LABEL_KEY_RE.match(name):
            dim = "label:" + name
        else:
            raise Invalid(
                f"group_by entries are 'host', 'none' or a label name; got {raw!r}", field="group_by"
            )
        if dim not in dims:
            dims.append(dim)
    return tuple(dims)


# ---------------------------------------------------------------------------------------- planning


def bucket_count(start: float, end: float, step: float) -> int:
    """Buckets of width `step`, aligned to multiples of `step`, that cover [start, end]."""
    return int(math.floor(end / step) - math.floor(start / step)) + 1


def choose_step(
    start: float,
    end: float,
    requested_step: float | None = None,
    max_points: int = MAX_POINTS,
    *,
    min_step: float = 10.0,
) -> float:
    """The step to use: the requested one when it keeps the result within `max_points` buckets,
    otherwise (or when none is requested) the smallest nice step that does, never below `min_step` for
    automatic steps (samples arrive every 10 s: a finer step is mostly gaps).

    Raises:
        Invalid: `requested_step` <= 0 or not finite (field "step"); `start` after `end` (field "from").
    """
    if requested_step is not None and not (math.isfinite(requested_step) and requested_step > 0):
        raise Invalid("step must be a positive number of seconds", field="step")
    if start > end:
        raise Invalid("from must not be after to", field="from")
    if requested_step is not None and bucket_count(start, end, requested_step) <= max_points:
        return float(requested_step)
    floor_step = max(requested_step or min_step, (end - start) / max(1, max_points - 1))
    for nice in NICE_STEPS:
        if nice >= floor_step and bucket_count(start, end, nice) <= max_points:
            return float(nice)
    step = max(NICE_STEPS[-1], math.ceil(floor_step / 86400) * 86400.0)
    while bucket_count(start, end, step) > max_points:
        step += 86400.0
    return step


def choose_resolution(
    start: float,
    end: float,
    now: float,
    retention: float,
    *,
    step: float | None = None,
    available: Sequence[str] = ("raw", "1h", "1d"),
) -> str:
    """Which data answers the query: "raw" | "5m" | "1m" | "1h" | "1d".

    Raw (or the 5-minute fine tier when `available` has it and the step is a whole number of 5
    minutes, or 1-minute rollups likewise) when the whole range is within the raw retention and the
    step is under an hour; otherwise hourly rollups, or daily ones once the step reaches a day.
    `retention` is the raw retention in seconds.

    Raises:
        Invalid: the range starts before the rollup retention (field "from").
    """
    if start < now - ROLLUP_RETENTION_SECONDS - 86400:
        raise Invalid(
            f"from is older than the {ROLLUP_RETENTION_SECONDS // 86400:.0f}-day history kept", field="from"
        )
    s = step or 0.0
    if start >= now - retention and s < RESOLUTION_SECONDS["1h"]:
        fine = RESOLUTION_SECONDS[FINE]
        if FINE in available and s >= fine and s % fine == 0:
            return FINE
        if "1m" in available and s >= 60 and s % 60 == 0:
            return "1m"
        return "raw"
    if s >= RESOLUTION_SECONDS["1d"] and "1d" in available:
        return "1d"
    return "1h"


def plan_step(
    start: float,
    end: float,
    now: float,
    retention: float,
    requested_step: float | None = None,
    max_points: int = MAX_POINTS,
    available: Sequence[str] = ("raw", "1h", "1d"),
    aggs: Sequence[str] = (),
) -> tuple[float, str]:
    """`(step, resolution)` together: a rollup resolution forces the step up to a multiple of it (the
    fine tier is only picked for steps that already are one: it never widens a step). Without a
    requested step, `aggs` with a percentile aim at `PERCENTILE_POINTS` buckets instead of `max_points`.

    Raises:
        Invalid: as `choose_step` and `choose_resolution`.
    """
    if requested_step is None:
        max_points = min(max_points, default_max_points(aggs))
    step = choose_step(start, end, requested_step, max_points)
    resolution = choose_resolution(start, end, now, retention, step=step, available=available)
    width = RESOLUTION_SECONDS.get(resolution)
    if width and step % width:
        step = math.ceil(step / width) * width
        resolution = choose_resolution(start, end, now, retention, step=step, available=available)
    return step, resolution


def _upper_median(xs: Sequence[float]) -> float | None:
    return sorted(xs)[len(xs) // 2] if xs else None


def reporting_interval(
    timestamps: Sequence[float], columns: Iterable[Sequence[float | None]]
) -> float | None:
    """An answer's typical reporting interval: the median over its series of the median spacing of
    their non-empty buckets (the dashboard's `gaps.js` reads the same to join gaps); None when no
    series has two values."""
    intervals = []
    for values in columns:
        present = [timestamps[i] for i, v in enumerate(values) if v is not None]
        spacing = _upper_median([b - a for a, b in pairwise(present)])
        if spacing is not None:
            intervals.append(spacing)
    return _upper_median(intervals)


def step_for_interval(interval: float | None, step: float) -> float | None:
    """A step no finer than data reporting every `interval` s, for an answer at an automatic `step`:
    the smallest nice step of at least 95 % of `interval` when `interval` is twice `step` or more (half
    the buckets or more would be empty), else None (keep `step`)."""
    if interval is None or interval < 2 * step:
        return None
    nice = next((float(s) for s in NICE_STEPS if s >= interval * 0.95), math.ceil(interval / 86400) * 86400.0)
    return nice if nice > step else None


def data_step(
    timestamps: Sequence[float], columns: Iterable[Sequence[float | None]], step: float
) -> float | None:
    """`step_for_interval` of an answer's own `reporting_interval`: so a 60 s series over an hour comes
    as 61 points, not 241 mostly empty ones."""
    return step_for_interval(reporting_interval(timestamps, columns), step)
