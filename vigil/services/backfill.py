"""Back-fill: samples loaded in bulk, then the rollups and the fleet tier built over them by the same
jobs the scheduler runs, so the back-filled range reads like data that arrived live.

`backfill` writes the blocks through the store's bulk path (`ports.BulkStore`), moves the rollup job's
watermark (`rollups.STATE_KIND`) back to the first back-filled hour and the fleet job's
(`fleet.STATE_KIND`) back to the first back-filled minute, then runs `run_rollups` once (one run
recomputes every host's hours from its watermark, 24 h per read) and `run_fleet` until it has caught
up with `now` (each run builds at most `fleet.MAX_RUN_SECONDS`). A watermark only ever moves back here
(never past what the jobs already built), and the fleet tier's `from` (where readers start trusting
it) moves back with it: the minutes before it are built by this call. Run it while no other process
runs the jobs on the same store (e.g. with `vigil serve` stopped): a concurrent run could move a
watermark forward between the rewind and the run.
Imports domain and ports only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any, Protocol

from vigil.domain.models import SeriesBlock
from vigil.ports import BulkStore, Store
from vigil.services import fleet, rollups


class BackfillStore(Store, BulkStore, Protocol):
    """A store with the bulk path (`SqliteStore`)."""


def backfill(
    store: BackfillStore, blocks: Iterable[SeriesBlock], now: float, *, retention_seconds: float
) -> dict[str, Any]:
    """Load `blocks` and build their rollups and fleet tier; returns what was done and how long each
    phase took (seconds).

    Raises:
        Invalid: a malformed block (`BulkStore.put_series_bulk`): the blocks before it are stored,
            but no job ran over them (call again with the corrected blocks).
    """
    t0 = time.perf_counter()
    loaded = store.put_series_bulk(blocks, now)
    t1 = time.perf_counter()
    out: dict[str, Any] = {"rows": loaded.rows, "skipped": loaded.skipped, "hosts": len(loaded.hosts)}
    if loaded.first is None:
        return {**out, "load_s": t1 - t0, "rollups_s": 0.0, "fleet_s": 0.0}
    _rewind(
        store, rollups.STATE_KIND, rollups.WATERMARK_ID, "hour", rollups.hour_of(loaded.first) + rollups.HOUR
    )
    minute = math.floor(loaded.first / fleet.MINUTE) * fleet.MINUTE
    _rewind(store, fleet.STATE_KIND, fleet.WATERMARK_ID, "until", minute, also="from")
    done = rollups.run_rollups(store, now, retention_seconds=retention_seconds)
    t2 = time.perf_counter()
    runs = minutes = 0
    until = -math.inf
    while until < fleet.settled_until(now):  # each run moves the watermark at most MAX_RUN_SECONDS
        run = fleet.run_fleet(store, now, retention_seconds=retention_seconds)
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
        "load_s": t1 - t0,
        "rollups_s": t2 - t1,
        "fleet_s": t3 - t2,
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
