"""Read-side use cases behind `/api/metrics/series` and the export (`/api/metrics/catalog` and
`/api/hosts`: `listings`; `/api/errors`: `error_queries`).

Parses user-facing query parameters (times, filters) into domain calls; aggregation itself lives in
`vigil.domain.series` so the series API, export and the alert backtest share it. A series query may
ask for several aggregations at once (`agg=p50,p95,p99,rate`): the data is read and decoded once and
the answer carries one series per (group, agg), each tagged with its `agg`.

What answers a query, cheapest first: the fleet tier for fleet-wide queries (`fleet_queries`),
SQL-side sums (avg/sum/count/min/max of plain values), histograms merged by the store per step bucket
(`HistogramSummaryStore`), then decoded points or rollups. Percentile charts of a day read the 5-minute
fine tier (`rollups.FINE`, histogram series only) up to the rollup job's watermark and raw samples
after it; a plain value (or a fine-tier plain marker) among them sends the query back to raw samples,
so answers never depend on the path.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vigil.capabilities import HistogramSummaryStore, SummaryStore
from vigil.config import Config
from vigil.domain.errors import Invalid
from vigil.domain.timeparse import parse_duration, parse_instant
from vigil.ports import Store

if TYPE_CHECKING:
    from vigil.domain.records import Point
    from vigil.domain.rollups import Rollup
    from vigil.domain.series import SeriesResult


def parse_labels(raw: str | None) -> dict[str, str] | None:
    """`k=v,k2=v2` → dict, a backslash escaping `,` `=` `\\` in a key or value
    (`identity.parse_labels_key`). Raises: Invalid naming `labels`."""
    from vigil.domain.identity import parse_labels_key

    if not raw:
        return None
    try:
        return dict(parse_labels_key(raw))
    except ValueError as exc:
        message = f"labels must look like key=value,key2=value2; got {exc.args[0]!r}"
        raise Invalid(message, field="labels") from None


RAW_SPAN_LIMIT = 2 * 86400.0  # longer ranges read hourly rollups (a raw 7 d x 100 hosts scan is ~1 s)
DAILY_SPAN_LIMIT = 62 * 86400.0  # longer ranges read daily rollups unless a finer step is asked for
SUMMARY_AGGS = frozenset({"avg", "sum", "count", "min", "max"})  # what SQL-side summaries can answer


@dataclass(frozen=True)
class SeriesQuery:
    """A validated, planned series query (the series API and export share it)."""

    metric: str
    hosts: list[str] | None
    labels: dict[str, str] | None
    start: float
    end: float
    agg: str  # as asked, e.g. "p95" or "p50,p95,p99"
    step: float
    resolution: str  # "raw" | "5m" | "1h" | "1d"
    group_by: list[str] | None
    aggs: tuple[str, ...] = ()  # `agg` parsed; () means (agg,)

    @property
    def agg_list(self) -> tuple[str, ...]:
        return self.aggs or (self.agg,)


def plan_series(
    config: Config,
    now: float,
    *,
    metric: str,
    host: str | None,
    labels: str | None,
    start: str,
    end: str,
    agg: str,
    step: str | None,
    group_by: str | None,
    multi: bool = True,
) -> SeriesQuery:
    """Parse, validate and plan. `multi`: whether `agg` may list several aggregations. Raises:
    Invalid naming the field (`agg`, `from`, `to`, `step`, `group_by`, `labels`); `from` older than the
    400-day history is refused."""
    from vigil.domain.planning import parse_aggs, parse_group_by, plan_step, validate_query
    from vigil.domain.rollups import FINE

    t0 = parse_instant(start, now=now, field="from")
    t1 = parse_instant(end, now=now, field="to")
    if t0 >= t1:
        raise Invalid("from must be before to", field="from")
    requested = parse_duration(step, field="step") if step else None
    aggs = parse_aggs(agg)
    if len(aggs) > 1 and not multi:
        raise Invalid("this endpoint takes one agg", field="agg")
    for one in aggs:
        validate_query(t0, t1, requested, one)
    groups = _group_by(group_by)
    parse_group_by(groups)
    span = t1 - t0
    if requested is None and span > DAILY_SPAN_LIMIT:
        requested = 86400.0
    raw_horizon = config.retention_seconds if span <= RAW_SPAN_LIMIT else 0.0
    available = ("raw", FINE, "1h", "1d")
    chosen, resolution = plan_step(t0, t1, now, raw_horizon, requested, available=available, aggs=aggs)
    hosts = [h.strip() for h in host.split(",") if h.strip()] if host else None
    return SeriesQuery(
        metric, hosts, parse_labels(labels), t0, t1, ",".join(aggs), chosen, resolution, groups, aggs
    )


def series(
    store: Store,
    config: Config,
    now: float,
    *,
    metric: str,
    host: str | None,
    labels: str | None,
    start: str,
    end: str,
    agg: str,
    step: str | None,
    group_by: str | None,
    forecast: str | None = None,
    band: str | None = None,
    offset: str | None = None,
) -> dict[str, Any]:
    """The series API's answer, with the chart overlays asked for (`services.overlays`). Without a
    `step`, one never finer than the data: the newest data are read first at the planned step to
    learn how often the series report (`step_probe`: cheap, and each host apart), and the range
    is answered at a step fitted to that — so the overview's hour of 60 s data costs a short read and one
    at whole minutes (the fleet tier can answer those), not a full read at 15 s and another at 60 s, and
    a client never asks twice. A probe that finds no interval (no recent data) leaves the fitting to the
    whole answer."""
    from vigil.domain.planning import data_step, step_for_interval
    from vigil.services import overlays
    from vigil.services.step_probe import probe_interval

    horizon, with_band, shift = overlays.parse_overlays(forecast, band, offset)

    def planned(step: str | None, shift: float = 0.0) -> SeriesQuery:
        return plan_series(
            config,
            now,
            metric=metric,
            host=host,
            labels=labels,
            start=start if not shift else str(q.start - shift),
            end=end if not shift else str(q.end - shift),
            agg=agg,
            step=step,
            group_by=group_by,
        )

    def fitted(q: SeriesQuery, step: float | None) -> SeriesQuery:
        return q if step is None else planned(str(step))

    q = planned(step)
    result: SeriesResult | None = None
    if step is None:
        interval = probe_interval(store, q, now, run_series)
        if interval is not None:
            q = fitted(q, step_for_interval(interval, q.step))
            result = run_series(store, q, now, q.start, q.end)
        if result is None:
            answer = run_series(store, q, now, q.start, q.end)
            refit = fitted(
                q, data_step(answer["timestamps"], [s["values"] for s in answer["series"]], q.step)
            )
            q, result = (
                (q, answer) if refit is q else (refit, run_series(store, refit, now, refit.start, refit.end))
            )
    else:
        result = run_series(store, q, now, q.start, q.end)
    if horizon is not None:
        overlays.add_forecast(result, q.end, horizon)
    if with_band:
        overlays.add_band(store, q, result, now, run_series)
    if shift is not None:
        earlier = planned(str(q.step), shift)
        overlays.add_offset(result, run_series(store, earlier, now, earlier.start, earlier.end), shift)
    return dict(result)


def run_series(store: Store, q: SeriesQuery, now: float, start: float, end: float) -> SeriesResult:
    """The series of `q` over [start, end] (the whole query, or one time chunk of an export)."""
    from vigil.domain.rollups import FINE
    from vigil.domain.series import build_series
    from vigil.domain.series_rollups import build_aggs_from_rollups
    from vigil.services.array_queries import from_arrays
    from vigil.services.fleet_queries import fleet_records

    aggs = q.agg_list
    kw: dict[str, Any] = {"start": start, "end": end, "step": q.step, "group_by": q.group_by}
    summable = all(a in SUMMARY_AGGS for a in aggs)

    def summaries() -> bool:
        # asked only off the array path: a runtime-Protocol isinstance costs ~10 µs on Python 3.11
        return summable and isinstance(store, SummaryStore)

    fleet = fleet_records(store, q, now, start, end)
    if fleet is not None:
        return _answer(q, q.resolution, build_aggs_from_rollups(fleet, aggs, **kw))
    if q.resolution == FINE:
        fine = _fine_records(store, q, now, start, end)
        if fine is not None:
            return _answer(q, FINE, build_aggs_from_rollups(fine, aggs, **kw))
    if q.resolution in ("raw", FINE):
        # any store with arrays (SQLite; DynamoDB over raw chunks), whether or not it summarises in SQL
        answered = from_arrays(store, q, now, start, end) if summable else None
        if answered is not None:
            return _answer(q, "raw", answered)
        if summaries():
            assert isinstance(store, SummaryStore)
            found = store.summarise(
                q.metric, "raw", start, end, q.step, q.hosts, q.labels, now, fleet=q.group_by == []
            )
            if found is not None:
                records = list(found)
                return _answer(q, "raw", build_aggs_from_rollups(records, aggs, **kw))
        merged = _histograms(store, q, "raw", start, end, now)
        if merged is not None:
            return _answer(q, "raw", build_aggs_from_rollups(merged, aggs, **kw))
        points: Iterable[Point] = store.query_points(
            q.metric, start, end, hosts=q.hosts, labels=q.labels, now=now
        )
        if len(aggs) > 1:
            points = list(points)
        return _answer(q, "raw", [build_series(points, agg=a, **kw) for a in aggs])
    summarised = summaries()
    answered = from_arrays(store, q, now, start, end) if summarised and q.resolution == "1h" else None
    if answered is not None:
        return _answer(q, "1h", answered)
    records = _rollup_records(store, q, now, start, end, summarised)
    return _answer(q, q.resolution, build_aggs_from_rollups(records, aggs, **kw))


def _histograms(
    store: Store, q: SeriesQuery, resolution: str, a: float, b: float, now: float
) -> list[Rollup] | None:
    """Histograms merged by the store per step bucket, or None when it cannot (no such capability,
    `last` asked — it needs each sample's time — or plain values among them)."""
    if not isinstance(store, HistogramSummaryStore) or "last" in q.agg_list:
        return None
    if a > b:
        return []
    return store.summarise_histograms(
        q.metric, resolution, a, b, q.step, q.hosts, q.labels, now, fleet=q.group_by == []
    )


def _fine_records(store: Store, q: SeriesQuery, now: float, start: float, end: float) -> list[Rollup] | None:
    """The fine tier's answer to [start, end]: stored 5-minute rollups up to the rollup job's watermark
    and raw samples after it. None — answer from raw instead — when the tier does not cover `start`
    yet (no run since it was introduced) or plain values are involved."""
    from vigil.domain.rollups import FINE, fine_rollups, is_plain_marker
    from vigil.services.rollups import DIRTY_KIND, STATE_KIND, WATERMARK_ID

    state = store.get_doc(STATE_KIND, WATERMARK_ID) or {}
    boundary = float(state.get("hour", -math.inf))
    lo = math.floor(start / q.step) * q.step
    if "fine_from" not in state or lo < float(state["fine_from"]):
        return None
    # hours with late samples the job has not recomputed yet (a backfill, usually none): raw is right
    for doc in store.list_docs(DIRTY_KIND):
        hour = float(doc["hour"])
        if lo - 3600 < hour <= end and (q.hosts is None or doc["host"] in q.hosts):
            return None
    fast = isinstance(store, HistogramSummaryStore) and "last" not in q.agg_list

    def part(resolution: str, a: float, b: float) -> list[Rollup] | None:
        if fast:
            return _histograms(store, q, resolution, a, b, now)
        if resolution == FINE:
            stored = list(store.query_rollups(q.metric, FINE, a, b, q.hosts, q.labels, now))
            return None if any(is_plain_marker(r) for r in stored) else stored
        raw = list(store.query_points(q.metric, a, b, hosts=q.hosts, labels=q.labels, now=now))
        return None if any(p.histogram is None for p in raw) else fine_rollups(raw)

    records: list[Rollup] = []
    stored_until = min(end, boundary - 1)
    for resolution, a, b in ((FINE, lo, stored_until), ("raw", max(boundary, lo), end)):
        if a > b:
            continue
        found = part(resolution, a, b)
        if found is None:
            return None
        records.extend(found)
    return records


def _answer(q: SeriesQuery, resolution: str, results: list[SeriesResult]) -> SeriesResult:
    """One aggregation: its result as is. Several: one series per (agg, group), tagged with `agg`."""
    first = results[0]
    first["metric"] = q.metric
    first["resolution"] = resolution
    if len(results) == 1:
        return first
    first["agg"] = q.agg
    first["series"] = [
        {**entry, "agg": agg}
        for agg, result in zip(q.agg_list, results, strict=True)
        for entry in result["series"]
    ]
    return first


def _rollup_records(
    store: Store, q: SeriesQuery, now: float, start: float, end: float, summaries: bool
) -> list[Rollup]:
    """Rollups answering [start, end]: stored ones up to the rollup job's watermark (the hour its last
    run reached, whose record may be partial), and the hours from there on rolled up from raw now."""
    from vigil.domain.rollups import RESOLUTION_SECONDS, coarsen, rollup_points
    from vigil.services.rollups import STATE_KIND, WATERMARK_ID

    width = RESOLUTION_SECONDS[q.resolution]
    lo = math.floor(start / width) * width
    state = store.get_doc(STATE_KIND, WATERMARK_ID) or {}
    boundary = float(state.get("hour", -math.inf))
    stored_until = min(end, boundary - 1)
    records: list[Rollup] = []

    def read(resolution: str, a: float, b: float) -> None:
        found = _summary(store, q, resolution, a, b, now) if summaries else None
        if found is not None:
            records.extend(found)
        elif a <= b:
            records.extend(store.query_rollups(q.metric, resolution, a, b, q.hosts, q.labels, now))

    tail: list[Rollup] = []  # hourly pieces still to coarsen to days (1d only)
    if q.resolution == "1d":
        # whole days from daily rows; the watermark's (partial) day from its hourly rows — summed by
        # SQL per day bucket when the store can (`q.step` is a multiple of a day), else coarsened
        day_of_boundary = math.floor(boundary / width) * width if math.isfinite(boundary) else -math.inf
        read("1d", lo, min(stored_until, day_of_boundary - 1))
        if math.isfinite(boundary) and day_of_boundary <= end:
            a = max(lo, day_of_boundary)
            found = _summary(store, q, "1h", a, stored_until, now) if summaries else None
            if found is not None:
                records.extend(found)
            elif a <= stored_until:
                tail.extend(store.query_rollups(q.metric, "1h", a, stored_until, q.hosts, q.labels, now))
    else:
        read("1h", lo, stored_until)
    if boundary <= end:  # after the watermark: raw samples (summed by SQL when it can)
        a = max(boundary, lo)
        found = _summary(store, q, "raw", a, end, now) if summaries else None
        if found is not None:
            records.extend(found)
        else:
            raw = store.query_points(q.metric, a, end, hosts=q.hosts, labels=q.labels, now=now)
            tail.extend(rollup_points(raw, "1h"))
    if tail:
        records.extend(coarsen(tail, "1d") if q.resolution == "1d" else tail)
    return records


def _summary(
    store: Store, q: SeriesQuery, resolution: str, a: float, b: float, now: float
) -> list[Rollup] | None:
    """SQL-side count/sum/min/max per (series, `q.step` bucket) of [a, b], or None when the store
    cannot (histograms involved, or no SummaryStore)."""
    if a > b or not isinstance(store, SummaryStore):
        return [] if a > b else None
    found = store.summarise(
        q.metric, resolution, a, b, q.step, q.hosts, q.labels, now, fleet=q.group_by == []
    )
    return None if found is None else list(found)


def _group_by(raw: str | None) -> list[str] | None:
    if raw is None or raw == "":
        return None
    if raw == "none":
        return []
    return [part.strip() for part in raw.split(",") if part.strip()]


def snapshot_window(config: Config) -> float:
    """The overview snapshot's window: three agent intervals, at least a minute."""
    return max(60.0, 3 * config.interval_seconds)
