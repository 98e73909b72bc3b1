"""The rollup job: hourly and daily rollups recomputed from raw samples, incrementally and idempotently.

Each run (hourly in AWS through EventBridge, every 5 minutes locally) recomputes, per host, every hour
from one hour before the watermark (the hour of the previous run) up to the current, partial hour,
then the days those hours belong to (`coarsen` of the day's hourly rollups). A bucket is always
recomputed WHOLE from its raw points and written over the previous record (`Store.put_rollups`
replaces a host-bucket), so a repeated, overlapping or crashed-and-retried run converges to the same
records; the watermark (`rollup_state/watermark`) only moves after a run. A host whose recomputation
fails (a store error, a bug in its data) is reported in the run's `failed` and its hours are marked
dirty like late samples, so the watermark still moves for every other host and the next run retries
exactly that host's hours.

Late samples. A sample may arrive up to the raw retention (7 days) late. Hours at or after
`hour(now) - 1h` are recomputed by the next run anyway (its window starts one hour before the previous
run's hour, which is at most the ingest hour). For older hours ingest writes a dirty marker
(`note_late_samples`: a `rollup_dirty` document per host-hour, `marker_id`) and the next run
recomputes exactly those hours and deletes the markers. Why markers only for late data rather than
recomputing the last N hours every run: on DynamoDB a recomputed hour costs a read of its ~60 chunk
items (~5.5 RRU per host); covering the whole 7-day window each hour would be 168 times that (≈ US$0.08
per host-month, the whole budget), and a marker on every batch would double the ingest writes. A
steady agent never sends late batches, so its markers cost nothing; a backfill costs one small write
per host-hour it touches.
Hours that have partly left the raw retention are never recomputed (their old rollup is more complete).

The fine tier (`rollups.FINE`, 5-minute rollups of histogram series, kept for the raw retention) is
written from the same raw read as each recomputed hour, so it costs no extra read. The first run that
writes it (no `fine_from` in the watermark) recomputes every whole hour of the raw retention once, and
records `fine_from`: readers use the fine tier only from there on.

Runs that cannot finish. A long catch-up (that first fine-tier backfill over a large existing fleet, or
the job stopped for days) can take longer than the jobs function's timeout. A run given `out_of_time`
checks it between hosts (in name order) and, when it says stop, saves a `resume` point in its progress
document (the window's first and last hour, the last host done) without moving its `hour`: the job
stays due, and the next run (5 minutes later in AWS) finishes that same window for the hosts after
that one, then records the window's last hour as reached; if the hour has turned meanwhile, the job is
still due and the run after is an ordinary incremental one from there. Without this, a run killed by
its timeout saved nothing, so every later run started the same catch-up again and rollups stopped for
every host.

Imports domain and ports only.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from vigil.capabilities import Doc, put_docs
from vigil.domain.records import Point
from vigil.domain.rollups import coarsen, fine_rollups, rollup_points
from vigil.domain.series_batch import HostBatch
from vigil.domain.shards import Shard
from vigil.ports import Store

log = logging.getLogger(__name__)

HOUR = 3600.0
DAY = 86400.0
STATE_KIND, WATERMARK_ID = "rollup_state", "watermark"
DIRTY_KIND = "rollup_dirty"
SPAN_HOURS = 24  # hours read per host in one go (bounds memory on a first run's backfill)
WHOLE = Shard()  # an unsharded run: every host (local mode, the backfill, tests)


def hour_of(ts: float) -> float:
    return math.floor(ts / HOUR) * HOUR


def note_late_samples(store: Store, host: str, points: Sequence[Point], now: float) -> int:
    """After a batch is stored: mark its host-hours that the next run's window will not reach (and its
    minutes the fleet job may have built, `fleet.late_fleet_markers`), in one transaction where the
    store offers one (`capabilities.put_docs`). Returns how many host-hour markers were written (0 for
    any batch of recent samples)."""
    markers, hours = late_sample_markers(host, [p.ts for p in points], now)
    put_docs(store, markers)
    return hours


def marker_id(host: str, hour: float) -> str:
    """A late host-hour's marker id: the hour first, so a back-filling request's hosts (their markers
    are rewritten by every request) sit side by side in the store's index. Host first, as Vigil wrote
    them before (SQLite dirtied ~15 index pages a 25-host request; docs/architecture.md, "Ingest,
    eleventh pass"), a marker has no `id` in its body."""
    return f"{int(hour)}|{host}"


def _stored_id(marker: dict[str, Any]) -> str:
    """The id a listed marker is stored under, whichever Vigil wrote it."""
    return str(marker.get("id") or f"{marker['host']}|{int(float(marker['hour']))}")


def late_sample_markers(host: str, times: Iterable[float], now: float) -> tuple[list[Doc], int]:
    """`note_late_samples`' markers of one stored batch, and how many are host-hours, unwritten."""
    return _late_markers([(host, times)], now)


def late_batch_markers(batches: Iterable[HostBatch], now: float) -> list[Doc]:
    """`late_sample_markers` of stored batches, each marker once: what ingest hands
    `capabilities.put_series_batches` to write with the batches. The fleet tier's minutes come from
    all the batches' late times at once (a request's hosts share them: one marker per run of minutes
    for the request, not a set of runs per host)."""
    return _late_markers(((b.host, b.times()) for b in batches), now)[0]


def _late_markers(batches: Iterable[tuple[str, Iterable[float]]], now: float) -> tuple[list[Doc], int]:
    """The markers of (host, sample times) batches, and how many are host-hours."""
    from vigil.services.fleet import late_fleet_markers, settled_until

    cutoff = hour_of(now) - HOUR
    bound = max(cutoff, settled_until(now))
    late_times: set[float] = set()
    hours: dict[str, Doc] = {}
    for host, times in batches:
        late = {t for t in times if t < bound}  # distinct times (a batch's series share them); usually none
        if not late:
            continue
        late_times |= late
        for h in sorted({hour_of(t) for t in late if t < cutoff}):
            doc_id = marker_id(host, h)
            hours[doc_id] = (DIRTY_KIND, doc_id, {"host": host, "hour": h, "id": doc_id})
    # the fleet tier's minutes (their own, shorter horizon) and the hours
    return late_fleet_markers(late_times, now) + list(hours.values()), len(hours)


def run_rollups(
    store: Store,
    now: float,
    *,
    retention_seconds: float,
    shard: Shard = WHOLE,
    out_of_time: Callable[[], bool] = lambda: False,
) -> dict[str, Any]:
    """One incremental run over the hosts `shard` owns (every host by default); returns what it did
    (hosts, hours and days recomputed, markers cleared, and `resume_after` when `out_of_time` stopped
    it before its last host: see the module). A shard of a sharded run keeps its progress in its own
    document and moves the shared watermark only once every shard has passed the hour
    (`advance_watermark`), so readers never take an hour as settled that some shard has not rolled up."""
    current = hour_of(now)
    oldest = hour_of(now - retention_seconds) + HOUR  # the oldest hour still whole in raw data
    state = store.get_doc(STATE_KIND, WATERMARK_ID) or {}
    # a shard's first run (or the first after the shard count changed) starts from the shared watermark
    own = state if shard.whole else (store.get_doc(STATE_KIND, shard_doc_id(shard)) or {})
    watermark = float(own.get("hour", state.get("hour", oldest + HOUR)))
    first = max(oldest, min(watermark, current) - HOUR)
    fine_from = own.get("fine_from", state.get("fine_from"))
    if fine_from is None:  # the fine tier is new here: backfill it over the raw retention once
        first = oldest
    resume = own.get("resume")
    after = ""
    if resume is not None:  # an earlier run stopped part-way: finish its window, after its last host
        first, current, after = max(oldest, float(resume["from"])), float(resume["to"]), str(resume["after"])
    window = [first + i * HOUR for i in range(int((current - first) // HOUR) + 1)]

    dirty: dict[str, set[float]] = {}
    markers = [doc for doc in store.list_docs(DIRTY_KIND) if shard.owns(str(doc["host"]))]
    for doc in markers:
        h = float(doc["hour"])
        if oldest <= h < first:
            dirty.setdefault(str(doc["host"]), set()).add(h)

    hours_done = days_done = 0
    failed: dict[str, str] = {}
    # a shard lists only its own hosts' newest pushes (on DynamoDB one Query per host it owns)
    listed = store.list_hosts(only=None if shard.whole else shard.owns)
    hosts = sorted(h.host for h in listed if h.host > after and (h.last_seen >= first or h.host in dirty))
    handled: list[str] = []
    for host in hosts:
        if handled and out_of_time():
            break
        wanted = set(window) | dirty.get(host, set())
        try:
            hours_done += _recompute_hours(store, host, sorted(wanted), now)
            days_done += _recompute_days(store, host, {math.floor(h / DAY) * DAY for h in wanted}, now)
        except Exception as exc:  # one host's failure must not stop every other host's rollups
            log.exception("rollups of host %s failed; its hours are marked for the next run", host)
            failed[host] = f"{type(exc).__name__}: {exc}"
            _mark(store, host, wanted)
        handled.append(host)
    finished = len(handled) == len(hosts)
    done = [
        m
        for m in markers
        if float(m["hour"]) < oldest or (str(m["host"]) in handled and str(m["host"]) not in failed)
    ]
    cleared = clear_markers(store, DIRTY_KIND, done, _stored_id)
    if finished:  # (a finished resumed window leaves the job due: the next run catches up from `current`)
        progress = {"hour": current, "ran_at": now, "fine_from": oldest if fine_from is None else fine_from}
    else:  # the job stays due (same `hour`) and the next run continues after the last host handled
        after = handled[-1] if handled else after
        log.warning("rollups stopped for time after host %s; the next run continues from there", after)
        progress = {**own, "ran_at": now, "resume": {"from": first, "to": current, "after": after}}
        progress.pop("_version", None)
    if shard.whole:
        store.put_doc(STATE_KIND, WATERMARK_ID, progress)
    else:
        store.put_doc(STATE_KIND, shard_doc_id(shard), {**progress, "shards": shard.count})
        advance_watermark(store, shard.count, now)
    return {
        "hosts": len(handled),
        "hours": hours_done,
        "days": days_done,
        "markers_cleared": cleared,
        "failed": failed,
        **({} if finished else {"resume_after": after}),
    }


def shard_doc_id(shard: Shard) -> str:
    """The `rollup_state` document holding one shard's progress (`watermark.<i>-of-<n>`)."""
    return f"{WATERMARK_ID}.{shard.name}"


def rollups_due(store: Store, now: float, shard: Shard = WHOLE) -> bool:
    """Whether a run at `now` has an hour to roll up for `shard`: its progress is of an older hour."""
    doc_id = WATERMARK_ID if shard.whole else shard_doc_id(shard)
    state = store.get_doc(STATE_KIND, doc_id) or {}
    return "hour" not in state or float(state["hour"]) < hour_of(now)


def advance_watermark(store: Store, shards: int, now: float) -> float | None:
    """Move the shared watermark to the oldest hour every one of `shards` shards has reached (their
    fine tiers are complete from the latest of their `fine_from`). Every sharded invocation calls it,
    so two shards finishing at once, neither seeing the other done, are caught up by the next run;
    when the watermark already holds the current hour it reads nothing more (an idle run: 2 reads).
    Returns the shared watermark's hour after the call (None: none yet)."""
    state = store.get_doc(STATE_KIND, WATERMARK_ID) or {}
    held = float(state["hour"]) if "hour" in state else None
    if held is not None and held >= hour_of(now):
        return held
    docs = [store.get_doc(STATE_KIND, shard_doc_id(Shard(i, shards))) for i in range(shards)]
    if any(doc is None or "hour" not in doc for doc in docs):
        return held
    reached = min(float(doc["hour"]) for doc in docs if doc is not None)
    if held is None or held < reached:
        fine_from = max(float(doc["fine_from"]) for doc in docs if doc is not None)
        store.put_doc(STATE_KIND, WATERMARK_ID, {"hour": reached, "ran_at": now, "fine_from": fine_from})
        return reached
    return held


def _mark(store: Store, host: str, hours: Iterable[float]) -> None:
    """Dirty markers for the hours a failed host still owes: the watermark moves on for the others,
    and the next run recomputes exactly these (a marker is cheap; a stuck watermark stops everyone)."""
    for h in sorted(hours):
        try:
            doc_id = marker_id(host, h)
            store.put_doc(DIRTY_KIND, doc_id, {"host": host, "hour": h, "id": doc_id})
        except Exception:
            log.exception("could not mark hour %s of host %s for the next rollup run", int(h), host)


def _recompute_hours(store: Store, host: str, hours: list[float], now: float) -> int:
    done = 0
    for span in _spans(hours):
        points = list(store.query_many(None, span[0], span[-1] + HOUR, hosts=[host], now=now))
        keep = set(span)
        rollups = [r for r in rollup_points(points, "1h") if r.start in keep]
        fine = [r for r in fine_rollups(points) if hour_of(r.start) in keep]
        if rollups or fine:
            store.put_rollups(rollups + fine, now)
        done += len({r.start for r in rollups})
    return done


def _recompute_days(store: Store, host: str, days: Iterable[float], now: float) -> int:
    done = 0
    for day in sorted(days):
        hourly = list(store.query_rollups(None, "1h", day, day + DAY - 1, hosts=[host], now=now))
        daily = coarsen(hourly, "1d")
        if daily:
            store.put_rollups(daily, now)
            done += 1
    return done


def _spans(hours: list[float]) -> list[list[float]]:
    """Consecutive hours grouped into runs of at most SPAN_HOURS (one read per run)."""
    spans: list[list[float]] = []
    for h in hours:
        if spans and h == spans[-1][-1] + HOUR and len(spans[-1]) < SPAN_HOURS:
            spans[-1].append(h)
        else:
            spans.append([h])
    return spans


def clear_markers(
    store: Store, kind: str, markers: list[dict[str, Any]], doc_id: Callable[[dict[str, Any]], str]
) -> int:
    """Delete the markers a run honoured, unless a newer late batch re-marked them meanwhile (their
    `_version` moved): those stay for the next run. Returns how many were deleted."""
    cleared = 0
    for doc in markers:
        current = store.get_doc(kind, doc_id(doc))
        if current is not None and current.get("_version") == doc.get("_version"):
            store.delete_doc(kind, doc_id(doc))
            cleared += 1
    return cleared
