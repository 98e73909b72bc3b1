"""What a chart can draw over a series (`/api/metrics/series?forecast=7d&band=week&offset=7d`):

- `forecast`: per series, the least-squares line through its steps extended to `to + forecast`
  (`domain.forecast.series_forecast`; two points, drawn dashed);
- `band=week`: per series and step, the hour-of-week baseline (`domain.seasonal.band_at`: mean and
  mean ± 3 spread over up to 4 past weeks), read as ONE hourly query over the 4 weeks before the range,
  answered by hourly rollups — the cost does not grow with raw samples;
- `offset`: the same query `offset` earlier ("same time last week", like PromQL's `offset`), its
  values aligned to the answer's timestamps.

Entries are matched by (host, labels, agg). Imports: domain and the query planner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from vigil.domain.errors import Invalid
from vigil.domain.forecast import series_forecast
from vigil.domain.seasonal import HOUR, NEIGHBOURS, WEEK, WEEKS, band_at, hour_of
from vigil.domain.timeparse import parse_duration

if TYPE_CHECKING:
    from vigil.domain.series import SeriesEntry, SeriesResult
    from vigil.ports import Store
    from vigil.services.queries import SeriesQuery

MAX_FORECAST = 365 * 86400.0
MAX_OFFSET = 400 * 86400.0


def parse_overlays(
    forecast: str | None, band: str | None, offset: str | None
) -> tuple[float | None, bool, float | None]:
    """Validated overlay parameters. Raises: Invalid naming `forecast`, `band` or `offset`."""
    horizon = _duration(forecast, "forecast", MAX_FORECAST)
    if band not in (None, "", "week"):
        raise Invalid("band must be 'week' (the hour-of-week baseline of the past 4 weeks)", field="band")
    return horizon, band == "week", _duration(offset, "offset", MAX_OFFSET)


def _duration(raw: str | None, field: str, limit: float) -> float | None:
    if raw is None or raw == "":
        return None
    seconds = parse_duration(raw, field=field)
    if not 0 < seconds <= limit:
        raise Invalid(f"{field} must be more than 0 and at most {limit / 86400:.0f} days", field=field)
    return seconds


def _key(entry: SeriesEntry) -> tuple[Any, ...]:
    return entry["host"], tuple(sorted(entry["labels"].items())), entry.get("agg")


def add_forecast(result: SeriesResult, end: float, horizon: float) -> None:
    for entry in result["series"]:
        line = series_forecast(result["timestamps"], entry["values"], end, horizon)
        entry["forecast"] = line
    result["forecast"] = horizon


def add_band(
    store: Store, q: SeriesQuery, result: SeriesResult, now: float, run: Callable[..., SeriesResult]
) -> None:
    """Band lines per series from one hourly query over the baseline weeks of the range."""
    first = hour_of(q.start) - WEEKS * WEEK + NEIGHBOURS[0]
    last = hour_of(q.end) - WEEK + NEIGHBOURS[-1]
    hourly_q = replace(q, start=first, end=min(last, now), step=HOUR, resolution="1h")
    found = run(store, hourly_q, now, first, min(last, now))
    hours = {
        _key(e): {ts: v for ts, v in zip(found["timestamps"], e["values"], strict=True) if v is not None}
        for e in found["series"]
    }
    available = False
    for entry in result["series"]:
        values = hours.get(_key(entry), {})
        mean: list[float | None] = []
        lower: list[float | None] = []
        upper: list[float | None] = []
        for ts in result["timestamps"]:
            band = band_at(values, hour_of(ts)) if values else None
            mean.append(None if band is None else band.mean)
            lower.append(None if band is None else band.lower)
            upper.append(None if band is None else band.upper)
            available = available or band is not None
        entry["band"] = {"mean": mean, "lower": lower, "upper": upper}
    result["band"] = {"kind": "week", "weeks": WEEKS, "available": available}


def add_offset(result: SeriesResult, shifted: SeriesResult, offset: float) -> None:
    """`shifted` (the query `offset` earlier) aligned to the answer's timestamps as `offset_values`."""
    by_key = {_key(e): dict(zip(shifted["timestamps"], e["values"], strict=True)) for e in shifted["series"]}
    for entry in result["series"]:
        earlier = by_key.get(_key(entry), {})
        entry["offset_values"] = [earlier.get(ts - offset) for ts in result["timestamps"]]
    result["offset"] = offset
