"""Series queries answered from whole arrays (`capabilities.ArraySummaryStore`: SQLite, and DynamoDB
over raw chunks): avg/sum/count/min/max over raw samples, or over hourly rollups up to the rollup
job's watermark and raw samples after it, summed by the store per (series, step bucket) and
aggregated by numpy (`adapters.store.arrays`) — the same numbers as the `Rollup` path in `queries`,
without an object per cell. numpy is imported only when a store answers with arrays: in Lambda, the
metrics function's series reads, never ingest or the other functions.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from vigil.capabilities import ArraySummaryStore
from vigil.ports import Store

if TYPE_CHECKING:
    from vigil.domain.series import SeriesResult
    from vigil.services.queries import SeriesQuery


def from_arrays(
    store: Store, q: SeriesQuery, now: float, start: float, end: float
) -> list[SeriesResult] | None:
    """One result per agg of `q` (all of them summarisable) at resolution "raw" or "1h" (`q.resolution`
    decides), or None when the store has no arrays or a part cannot be summarised (histograms)."""
    if not isinstance(store, ArraySummaryStore):
        return None
    parts = []
    for resolution, a, b in _ranges(store, q, start, end):
        found = store.summarise_arrays(
            q.metric, resolution, a, b, q.step, q.hosts, q.labels, now, fleet=q.group_by == []
        )
        if found is None:
            return None
        parts.append(found)
    from vigil.adapters.store.arrays import series_from_arrays

    return series_from_arrays(parts, q, q.agg_list, start, end, "raw" if q.resolution != "1h" else "1h")


def _ranges(store: Store, q: SeriesQuery, start: float, end: float) -> list[tuple[str, float, float]]:
    """What answers [start, end]: raw samples; or for "1h", as `queries._rollup_records` reads it,
    stored hourly rollups up to the watermark (the hour the rollup job's last run reached) and raw
    samples from there on."""
    if q.resolution != "1h":
        return [("raw", start, end)]
    from vigil.services.rollups import STATE_KIND, WATERMARK_ID

    lo = math.floor(start / 3600.0) * 3600.0
    boundary = float((store.get_doc(STATE_KIND, WATERMARK_ID) or {}).get("hour", -math.inf))
    ranges = (("1h", lo, min(end, boundary - 1)), ("raw", max(boundary, lo), end))
    return [(resolution, a, b) for resolution, a, b in ranges if a <= b]
