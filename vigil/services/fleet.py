"""The fleet job: per-minute fleet rollups (and their hours) and the latest value per host, built from
raw samples once per interval, so fleet-wide reads cost O(buckets), not O(hosts).

Each run (every 5 minutes in AWS, with the metrics function's schedule; every minute locally) reads the
whole minutes between its watermark (`fleet_state/watermark`, the end of the last minute it built) and
`now - SETTLE_SECONDS`, from every host at once (`query_many`: one read per host of a few minutes of
chunks), and writes one fleet item per minute (`Store.put_fleet`), the newest value of each host's
series (`Store.record_latest`), and, for every hour that ends inside the range, the hour's fleet record
coarsened from its minutes (a read of the fleet tier, not of the hosts). Why here rather than at ingest
or in a stream consumer: docs/data-model.md ("Fleet tier").

Late samples. A minute is built once its batches have arrived: agents push 60 s batches, so waiting
`SETTLE_SECONDS` after a minute ends covers a healthy agent. A batch with samples of a minute that may
already be built (`note_late_fleet`, called with the rollup job's late-sample check) leaves a
`fleet_dirty` marker per run of consecutive minutes (`{"minute": first, "until": end}`; a lone minute
is `{"minute": m}`, the only form before 2026-12-04, still read); the next run rebuilds those minutes
(and their hours) from every host and deletes the markers it honoured. A steady agent never leaves one.
A marker per run rather than per minute: a back-filled batch of 100 minutes wrote 100 documents (a
fifth of a JSON back-fill request's CPU, and a DynamoDB write each); it writes one.

A first run (no watermark) starts `FIRST_RUN_SECONDS` back, the overview's default range for a young
fleet (1 h), so that chart reads the tier from the first run on; the tier then fills forward, it does
not backfill the raw retention. A run catches up at most `MAX_RUN_SECONDS` (bounded memory and time).
Imports domain and ports only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from vigil.capabilities import Doc, put_docs
from vigil.domain.fleet import FLEET_MINUTE, FleetFold, fleet_hours
from vigil.domain.records import Point
from vigil.ports import Store
from vigil.services.rollups import clear_markers

MINUTE, HOUR = 60.0, 3600.0
SETTLE_SECONDS = 120.0  # a minute is built this long after it ends (one 60 s agent batch + slack)
FIRST_RUN_SECONDS = 3600.0  # = MAX_RUN_SECONDS: one run's bounded catch-up
MAX_RUN_SECONDS = 3600.0
FOLD_POINTS = 200_000  # points held before folding them into the fleet records (~40 MB)
STATE_KIND, WATERMARK_ID, SNAPSHOT_ID = "fleet_state", "watermark", "snapshot"
DIRTY_KIND = "fleet_dirty"


def settled_until(now: float) -> float:
    """The end of the newest minute a run at `now` builds."""
    return math.floor((now - SETTLE_SECONDS) / MINUTE) * MINUTE


def note_late_fleet(store: Store, points: Sequence[Point], now: float) -> int:
    """After a batch is stored: mark the minutes of its samples that a run may already have built.
    Returns how many markers were written (0 for a healthy agent's batch)."""
    markers = late_fleet_markers([p.ts for p in points], now)
    put_docs(store, markers)
    return len(markers)


def late_fleet_markers(times: Iterable[float], now: float) -> list[Doc]:
    """The `fleet_dirty` documents `note_late_fleet` writes for samples at `times`: one per run of
    consecutive minutes, oldest first."""
    cutoff = settled_until(now)
    minutes = sorted({math.floor(t / MINUTE) * MINUTE for t in times if t < cutoff})
    return [_marker(a, b) for a, b in _spans(minutes)]


def _marker(start: float, end: float) -> Doc:
    """The marker of the minutes in [start, end); a lone minute's has the older per-minute form."""
    if end - start == MINUTE:
        return (DIRTY_KIND, str(int(start)), {"minute": start})
    return (DIRTY_KIND, f"{int(start)}-{int(end)}", {"minute": start, "until": end})


def marker_id(doc: Mapping[str, Any]) -> str:
    """A stored marker's document id (`_marker`'s)."""
    start = float(doc["minute"])
    end = float(doc.get("until", start + MINUTE))
    return _marker(start, end)[1]


def marker_minutes(doc: Mapping[str, Any], lo: float, hi: float) -> list[float]:
    """The minutes a stored marker names within [lo, hi)."""
    start = float(doc["minute"])
    end = min(float(doc.get("until", start + MINUTE)), hi)
    if start < lo:
        start += math.ceil((lo - start) / MINUTE) * MINUTE
    return _range(start, end, MINUTE)


def run_fleet(
    store: Store,
    now: float,
    *,
    retention_seconds: float,
    snapshot_window: float = 60.0,
    thresholds: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One run; returns what it built (minutes, hours, markers cleared). `snapshot_window`: the
    overview snapshot's window (`queries.snapshot`), kept for large fleets (`SNAPSHOT_ID`) with the
    hosts' levels against `thresholds` (`config.Thresholds` as a dict; defaults when None)."""
    end = settled_until(now)
    oldest = math.ceil((now - retention_seconds) / MINUTE) * MINUTE
    state = store.get_doc(STATE_KIND, WATERMARK_ID) or {}
    start = max(float(state.get("until", end - FIRST_RUN_SECONDS)), oldest)
    end = min(end, start + MAX_RUN_SECONDS)
    spans = [(start, end)] if start < end else []
    markers = store.list_docs(DIRTY_KIND)
    # minutes before the tier's start were never built and no reader uses them: their markers (a
    # backfill of older data leaves them) are cleared, not rebuilt — a week of them cost ~15 s of CPU
    built_from = max(oldest, float(state.get("from", start)))
    late = sorted({m for d in markers for m in marker_minutes(d, built_from, start)})
    spans.extend(_spans(late))
    minutes = 0
    hours: set[float] = set()
    for i, (a, b) in enumerate(spans):
        snapshot = snapshot_window if i == 0 else None  # the main span, when it is not empty
        minutes += _build_minutes(store, a, b, now, snapshot, thresholds)
        first = math.floor(a / HOUR) * HOUR
        # an hour is built once its last minute is; a late minute rebuilds its hour if that was built
        done = end if a >= start else start
        hours.update(h for h in _range(first, b, HOUR) if h + HOUR <= done and h + HOUR > a)
    for hour in sorted(hours):
        found = list(store.query_fleet(None, FLEET_MINUTE, hour, hour + HOUR - 1, now=now))
        if found:
            store.put_fleet(fleet_hours(found), now)
    cleared = clear_markers(store, DIRTY_KIND, markers, marker_id)
    if start < end:
        first = float(state.get("from", start))  # readers use the tier from here on
        store.put_doc(STATE_KIND, WATERMARK_ID, {"until": end, "ran_at": now, "from": first})
    return {"minutes": minutes, "hours": len(hours), "markers_cleared": cleared, "until": max(start, end)}


def _build_minutes(
    store: Store, a: float, b: float, now: float, window: float | None, thresholds: Mapping[str, Any] | None
) -> int:
    """Build the minutes of [a, b) from every host, folding the points into fleet records every
    FOLD_POINTS points (at a host boundary: both stores yield a host's series whole, so no series is
    cut), so memory stays bounded by the fleet records, not the fleet's points."""
    from vigil.domain.snapshot import SNAPSHOT_METRICS

    # the snapshot compares two windows: read them both even when the span is shorter
    lo = a if window is None else min(a, b - 2 * window)
    snapshot_from = math.inf if window is None else b - 2 * window
    wanted = set(SNAPSHOT_METRICS)
    fold = FleetFold(FLEET_MINUTE)
    newest: dict[tuple[str, str, tuple[tuple[str, str], ...]], Point] = {}
    snap: list[Point] = []
    buffer: list[Point] = []
    for p in store.query_many(None, lo, b - 0.001, now=now):
        if len(buffer) >= FOLD_POINTS and p.host != buffer[-1].host:
            fold.add(buffer)
            buffer.clear()
        if p.ts >= snapshot_from and p.metric in wanted:
            snap.append(p)
        if p.ts < a:
            continue
        buffer.append(p)
        key = (p.host, p.metric, p.labels)
        if key not in newest or p.ts > newest[key].ts:
            newest[key] = p
    fold.add(buffer)
    records = fold.records()
    if window is not None:
        save_snapshot(store, snap, b, window, now, thresholds)
    if records:
        store.put_fleet(records, now)
        store.record_latest(list(newest.values()), now)
    return len({r.start for r in records})


def save_snapshot(
    store: Store,
    points: list[Point],
    end: float,
    window: float,
    now: float,
    thresholds: Mapping[str, Any] | None = None,
) -> None:
    """The overview snapshot as of `end` (the newest built minute), for fleets too large to read live,
    with its bounded `by_host` (hosts seen in both windows; `thresholds`: the deployment's
    `config.Thresholds`, defaults when None)."""
    from dataclasses import asdict

    from vigil.config import Thresholds
    from vigil.domain.request_ranks import rank_request_kpis
    from vigil.domain.snapshot import build_snapshot
    from vigil.services.snapshot import BY_HOST_LIMIT, by_host_of_points

    latest = [p for p in points if end - window <= p.ts < end]
    previous = [p for p in points if end - 2 * window <= p.ts < end - window]
    body = build_snapshot(latest, previous, end, window=window)
    body["by_host"] = rank_request_kpis(latest, window)  # the application KPIs' worst hosts, top N only
    hosts = len({p.host for p in latest})
    limits = asdict(Thresholds()) if thresholds is None else thresholds
    ranked = by_host_of_points(previous + latest, limits, BY_HOST_LIMIT)
    doc = {"snapshot": body, "by_host": ranked, "hosts": hosts, "as_of": end, "ran_at": now}
    store.put_doc(STATE_KIND, SNAPSHOT_ID, doc)


def _range(a: float, b: float, step: float) -> list[float]:
    return [a + i * step for i in range(max(0, math.ceil((b - a) / step)))]


def _spans(minutes: list[float]) -> list[tuple[float, float]]:
    """Ascending minutes' consecutive runs as [start, end) spans (a late span: one read of every host;
    a late batch's span: one marker)."""
    out: list[tuple[float, float]] = []
    for m in minutes:
        if out and out[-1][1] == m:
            out[-1] = (out[-1][0], m + MINUTE)
        else:
            out.append((m, m + MINUTE))
    return out
