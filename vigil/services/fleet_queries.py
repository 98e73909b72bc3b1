"""Fleet-wide series answered from the fleet tier (`services.fleet`), in O(buckets) reads.

A series query is fleet-wide when it names no host and does not group by host (`group_by=none` or
label dimensions only), e.g. the overview's 24 h response-time chart: without the tier it reads every
host's samples (one DynamoDB Query per host). With it, it reads the fleet minutes (ranges up to two
days: steps that are whole minutes) or fleet hours (longer ranges: whole-hour steps) up to the fleet
job's watermark. After the watermark (the last 2 to 7 minutes):
  - stores that aggregate raw samples cheaply in place (`SummaryStore`: SQLite) add the raw samples of
    that tail, so local charts stay live;
  - DynamoDB leaves the tail empty (null points) rather than read every host: fleet charts there lag
    the newest data by the job's period plus its settling time.
`None` (answer the old way) when the query is not fleet-wide, asks for `last` (which needs each
sample's time), its step does not fit the tier, the tier does not cover its start yet, or it asks for
percentiles of plain values (the tier keeps histograms, not sketches).
Imports domain and ports only.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from vigil.capabilities import HistogramSummaryStore, SummaryStore
from vigil.domain.accumulate import PERCENTILES
from vigil.domain.fleet import FLEET_HOUR, FLEET_MINUTE, fleet_hours, fleet_rollups
from vigil.ports import Store
from vigil.services.fleet import STATE_KIND, WATERMARK_ID

if TYPE_CHECKING:
    from vigil.domain.rollups import Rollup
    from vigil.services.queries import SeriesQuery

HOUR = 3600.0


def is_fleet_wide(q: SeriesQuery) -> bool:
    return (
        q.hosts is None
        and q.group_by is not None
        and "host" not in q.group_by
        and "last" not in q.agg_list
        and q.resolution in ("raw", "5m", "1h")
    )


def fleet_records(store: Store, q: SeriesQuery, now: float, start: float, end: float) -> list[Rollup] | None:
    """Fleet records (plus the raw tail where cheap) answering [start, end], or None (see module)."""
    if not is_fleet_wide(q):
        return None
    resolution = FLEET_HOUR if q.resolution == "1h" else FLEET_MINUTE
    width = HOUR if resolution == FLEET_HOUR else 60.0
    if q.step % width:
        return None
    state = store.get_doc(STATE_KIND, WATERMARK_ID) or {}
    if "from" not in state:
        return None
    until = float(state["until"])
    lo = math.floor(start / q.step) * q.step
    # the tier must cover every step bucket but the first, which may hold the tier's `from`: a
    # back-filled history is at most the raw retention long, so a 7-day chart's first hour is partial
    # in the tier (the hosts' rollups skip it: the rollup job only builds hours whole in raw data)
    if lo + q.step <= float(state["from"]):
        return None
    records: list[Rollup] = []
    first = lo  # the first bucket the tier answers
    if q.resolution == "raw" and start > lo and isinstance(store, SummaryStore):
        # a raw answer's first bucket holds its samples from `start` on, not its whole step (a rollup
        # tier's holds the step, as the fleet tier's would): that part is read raw, as the hosts' is
        first = lo + q.step
        records.extend(_from_raw(store, q, start, math.nextafter(first, -math.inf), now))
    stored_until = min(end, until - 1)
    if resolution == FLEET_HOUR:
        hour = math.floor(until / HOUR) * HOUR
        whole = min(stored_until, hour - 1)
        records.extend(store.query_fleet(q.metric, FLEET_HOUR, first, whole, q.labels, now))
        if hour <= stored_until:  # the watermark's hour: its minutes so far
            minutes = store.query_fleet(q.metric, FLEET_MINUTE, hour, stored_until, q.labels, now)
            records.extend(fleet_hours(minutes))
    else:
        records.extend(store.query_fleet(q.metric, FLEET_MINUTE, first, stored_until, q.labels, now))
    if until <= end and isinstance(store, SummaryStore):
        records.extend(_from_raw(store, q, max(until, first), end, now))
    if any(a in PERCENTILES for a in q.agg_list) and any(r.histogram is None and r.count for r in records):
        return None  # plain values: the tier keeps no sketch (`domain.fleet`), the hosts' data has them
    return records


def _from_raw(store: Store, q: SeriesQuery, start: float, end: float, now: float) -> list[Rollup]:
    """The minutes after the watermark (or the part of the first bucket inside a raw answer's range)
    from raw samples, as a few records per minute: summed by SQL when the aggregates allow it
    (count/sum/min/max across every series at once: at 1,000 hosts the tail is thousands of samples,
    and building a `Point` for each was most of a 24 h chart's time), histograms merged per minute by
    the store for a fleet line (the overview's p50/p95/p99/rate refresh: 100 hosts' tail as `Point`s
    cost 10 ms), else folded into fleet records."""
    from vigil.services.queries import SUMMARY_AGGS

    if q.group_by == [] and set(q.agg_list) <= SUMMARY_AGGS and isinstance(store, SummaryStore):
        summed = store.summarise(q.metric, "raw", start, end, 60.0, labels=q.labels, now=now, fleet=True)
        if summed is not None:  # None: histogram samples, which need their buckets merged
            return list(summed)
    if q.group_by == [] and isinstance(store, HistogramSummaryStore):  # merged in the store, per minute
        merged = store.summarise_histograms(
            q.metric, "raw", start, end, 60.0, None, q.labels, now, fleet=True
        )
        if merged is not None:  # None: plain values among them
            return merged
    tail = store.query_points(q.metric, start, end, labels=q.labels, now=now)
    return fleet_rollups(tail, FLEET_MINUTE)
