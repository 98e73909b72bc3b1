"""Back-fill: samples loaded in bulk, with the rollups and the fleet tier the scheduler's jobs would
build over them, so the back-filled range reads like data that arrived live.

Two ways, same records:
- **One pass** (an empty store, blocks grouped by host): each host's blocks go through the store's bulk
  path (`capabilities.BulkStore`), then, from the same arrays still in memory, its hourly rollups, fine-tier
  markers and daily rollups (`block_rollups`, equal to what `run_rollups` computes from raw) are
  written, and the blocks are folded into the fleet minutes (`BlockFleetFold`, equal to `run_fleet`'s
  `FleetFold`). After the last host: the fleet minutes and their hours, the overview snapshot and the
  newest value of each series, and both jobs' watermarks as if they had just run at `now`. Nothing is
  read back: the raw rows are written once and never decoded. Why only on an empty store: the records
  are built from the blocks alone, so samples already stored would be missing from them.
- **Through the jobs** (a store with data, a host whose blocks come back after another host's, or
  `via_jobs=True`): the bulk load, then the jobs' watermarks moved back (`rollups.STATE_KIND` to the
  first back-filled hour, `fleet.STATE_KIND` and the tier's `from` to the first back-filled minute;
  never forward), `run_rollups` once and `run_fleet` until it has caught up with `now`. It re-reads
  every sample as a `Point` twice: 5 times the one pass's time for the same samples (docs/data-model.md).

Run it while no other process runs the jobs on the same store (e.g. with `vigil serve` stopped): a
concurrent run could move a watermark between the rewind and the run.
Imports domain and ports only.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from itertools import groupby
from typing import Any, Protocol

from vigil.capabilities import BulkStore
from vigil.domain.block_rollups import BlockFleetFold, block_markers, block_rollups
from vigil.domain.fleet import FLEET_MINUTE, fleet_hours
from vigil.domain.records import Point, SeriesBlock
from vigil.domain.rollups import coarsen
from vigil.domain.snapshot import SNAPSHOT_METRICS
from vigil.ports import Store
from vigil.services import fleet, rollups

SNAPSHOT_WINDOW = 60.0  # `run_fleet`'s default overview window


class BackfillStore(Store, BulkStore, Protocol):
    """A store with the bulk path (`SqliteStore`)."""


def backfill(
    store: BackfillStore,
    blocks: Iterable[SeriesBlock],
    now: float,
    *,
    retention_seconds: float,
    via_jobs: bool = False,
    thresholds: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Load `blocks` and build their rollups and fleet tier; returns what was done, which way
    (`one_pass`) and how long each phase took (seconds). `thresholds`: `config.Thresholds` as a dict,
    for the overview snapshot's host levels (defaults when None).

    Raises:
        Invalid: a malformed block (`BulkStore.put_series_bulk`): the blocks before it are stored, but
            the tiers were not built over them (call again with the corrected blocks).
    """
    fresh = not via_jobs and not store.list_hosts() and _no_watermarks(store)
    if fresh:
        one = _OnePass(store, now, retention_seconds, thresholds)
        for host, group in groupby(blocks, key=lambda b: b.host):
            one.add_host(host, list(group))
        if not one.revisited:
            return one.finish()
        # a host came back after another: its rollups would replace each other; let the jobs rebuild
        return _run_jobs(store, one.out(), now, retention_seconds, one.first, thresholds)
    t0 = time.perf_counter()
    loaded = store.put_series_bulk(blocks, now)
    out: dict[str, Any] = {
        "rows": loaded.rows,
        "skipped": loaded.skipped,
        "hosts": len(loaded.hosts),
        "load_s": time.perf_counter() - t0,
        "rollups_s": 0.0,
        "fleet_s": 0.0,
        "one_pass": False,
    }
    return _run_jobs(store, out, now, retention_seconds, loaded.first, thresholds)


class _OnePass:
    """The one-pass back-fill's state between hosts (see the module)."""

    def __init__(
        self, store: BackfillStore, now: float, retention_seconds: float, thresholds: Mapping[str, Any] | None
    ) -> None:
        self.store, self.now, self.thresholds = store, now, thresholds
        self.oldest_hour = rollups.hour_of(now - retention_seconds) + rollups.HOUR  # run_rollups' oldest
        self.current_hour = rollups.hour_of(now)
        self.oldest_minute = math.ceil((now - retention_seconds) / fleet.MINUTE) * fleet.MINUTE
        self.end = fleet.settled_until(now)
        self.fold = BlockFleetFold(FLEET_MINUTE)
        self.snap: list[Point] = []
        self.newest: list[Point] = []
        self.seen: set[str] = set()
        self.revisited = False
        self.rows = self.skipped = 0
        self.first: float | None = None
        self.times = {"load_s": 0.0, "rollups_s": 0.0, "fleet_s": 0.0}

    def add_host(self, host: str, blocks: list[SeriesBlock]) -> None:
        t0 = time.perf_counter()
        loaded = self.store.put_series_bulk(blocks, self.now)
        t1 = time.perf_counter()
        self.rows, self.skipped = self.rows + loaded.rows, self.skipped + loaded.skipped
        if loaded.first is not None:
            self.first = loaded.first if self.first is None else min(self.first, loaded.first)
        self.revisited = self.revisited or host in self.seen
        self.seen.add(host)
        self.times["load_s"] += t1 - t0
        if self.revisited or loaded.rows == 0:
            return  # the jobs will build the tiers (see `backfill`)
        # the bulk path keeps [now - retention, now + MAX_FUTURE]; the jobs' ranges are narrower
        out = []
        for block in blocks:
            hourly = [r for r in block_rollups(block, "1h", self.oldest_hour) if r.start <= self.current_hour]
            out.extend(hourly)
            out.extend(block_markers(hourly))
            out.extend(coarsen(hourly, "1d"))
        if out:
            self.store.put_rollups(out, self.now)
        t2 = time.perf_counter()
        for block in blocks:
            self.fold.add(block, self.oldest_minute, self.end)
            self._keep_points(block)
        self.times["rollups_s"] += t2 - t1
        self.times["fleet_s"] += time.perf_counter() - t2

    def _keep_points(self, block: SeriesBlock) -> None:
        """The block's newest sample before `end` (`record_latest`) and its samples in the snapshot's
        two windows, as `run_fleet`'s last run would have read them."""
        ts = block.timestamps
        i = bisect_left(ts, self.end)
        if i and ts[i - 1] >= self.oldest_minute:
            self.newest.append(Point(block.host, block.metric, block.labels, ts[i - 1], block.values[i - 1]))
        if block.metric in SNAPSHOT_METRICS:
            a = bisect_left(ts, max(self.end - 2 * SNAPSHOT_WINDOW, self.oldest_minute))
            self.snap.extend(
                Point(block.host, block.metric, block.labels, ts[k], block.values[k]) for k in range(a, i)
            )

    def out(self) -> dict[str, Any]:
        return {"rows": self.rows, "skipped": self.skipped, "hosts": len(self.seen), **self.times}

    def finish(self) -> dict[str, Any]:
        t0 = time.perf_counter()
        store, now = self.store, self.now
        minutes = self.fold.records()
        by_hour: dict[float, list[Any]] = {}
        for r in minutes:
            by_hour.setdefault(rollups.hour_of(r.start), []).append(r)
        hours = 0
        for hour, found in sorted(by_hour.items()):
            whole = hour + fleet.HOUR <= self.end  # `run_fleet` builds an hour once its last minute is
            store.put_fleet(found + (fleet_hours(found) if whole else []), now)
            hours += whole
        fleet.save_snapshot(store, self.snap, self.end, SNAPSHOT_WINDOW, now, self.thresholds)
        if minutes:
            store.record_latest(self.newest, now)
        if self.first is not None:
            start = math.floor(self.first / fleet.MINUTE) * fleet.MINUTE
            store.put_doc(
                rollups.STATE_KIND,
                rollups.WATERMARK_ID,
                {"hour": self.current_hour, "ran_at": now, "fine_from": self.oldest_hour},
            )
            state = {"until": self.end, "ran_at": now, "from": start}
            store.put_doc(fleet.STATE_KIND, fleet.WATERMARK_ID, state)
        self.times["fleet_s"] += time.perf_counter() - t0
        return {
            **self.out(),
            "one_pass": True,
            "fleet_minutes": len({r.start for r in minutes}),
            "fleet_hours": hours,
        }


def _no_watermarks(store: Store) -> bool:
    return not store.get_doc(rollups.STATE_KIND, rollups.WATERMARK_ID) and not store.get_doc(
        fleet.STATE_KIND, fleet.WATERMARK_ID
    )


def _run_jobs(
    store: Store,
    out: dict[str, Any],
    now: float,
    retention_seconds: float,
    first: float | None,
    thresholds: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The jobs over the back-filled range, after moving their watermarks back to it."""
    out = {**out, "one_pass": False}
    if first is None:
        return out
    t1 = time.perf_counter()
    _rewind(store, rollups.STATE_KIND, rollups.WATERMARK_ID, "hour", rollups.hour_of(first) + rollups.HOUR)
    minute = math.floor(first / fleet.MINUTE) * fleet.MINUTE
    _rewind(store, fleet.STATE_KIND, fleet.WATERMARK_ID, "until", minute, also="from")
    done = rollups.run_rollups(store, now, retention_seconds=retention_seconds)
    t2 = time.perf_counter()
    runs = minutes = 0
    until = -math.inf
    while until < fleet.settled_until(now):  # each run moves the watermark at most MAX_RUN_SECONDS
        run = fleet.run_fleet(store, now, retention_seconds=retention_seconds, thresholds=thresholds)
        runs, minutes = runs + 1, minutes + int(run["minutes"])
        if run["until"] <= until:
            break  # nothing left to build (cannot happen with a watermark behind `now`; a safeguard)
        until = float(run["until"])
    t3 = time.perf_counter()
    return {
        **out,
        "rollup_hours": done["hours"],
        "fleet_runs": runs,
        "fleet_minutes": minutes,
        "rollups_s": out["rollups_s"] + t2 - t1,
        "fleet_s": out["fleet_s"] + t3 - t2,
    }


def _rewind(store: Store, kind: str, doc_id: str, key: str, to: float, also: str | None = None) -> None:
    """Move a job's watermark `key` (and `also`, when given) back to `to`, never forward. A missing
    watermark is created at `to`."""
    state = store.get_doc(kind, doc_id) or {}
    state.pop("_version", None)
    for k in (key, also):
        if k is not None:
            state[k] = min(float(state.get(k, to)), to)
    store.put_doc(kind, doc_id, state)
