"""Every host's newest push in one place, so a page of `GET /api/hosts` costs a constant number of
DynamoDB requests on DynamoDB whatever the fleet size (docs/data-model.md, "Host pushes summary").

A host's newest receipt time and declared interval live on its newest raw chunk (`r`, `i`): reading
them costs one Query per host. The full listing (`list_hosts()` without a page: the evaluator every
tick, the rollup job every hour) pays those Queries anyway, so it leaves what it read behind in
`PUSHES` / `<part:2 digits>` items (samples table; `[host, receipt, declared]` records, zlib-compressed
in parts of at most `PART_BYTES`, generation-tagged like the fleet tier's), stamped with the wall-clock
time of the listing (`at`). A page reads them with one Query and trusts them for
`PUSHES_MAX_AGE_SECONDS` of wall-clock time; an older summary (no evaluator running a cadence rule)
or a host missing from it (new since) falls back to that host's own Query, as before.

Why not a host item refreshed by ingest: at 60 s batches that is one more write unit per push, which
doubles the ingest bill; the summary costs one write of ~10 bytes per host per evaluator tick.
Must not import boto3 at module level.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

from vigil.adapters.store.dynamodb_fleet import current_parts, decode_part, encode_parts
from vigil.adapters.store.dynamodb_io import DynamoIO, Item, n, num, s

PUSHES_PK = "PUSHES"
# The evaluator lists every host once a minute: a summary this old (wall clock) means no full listing
# is running, and a page reads each of its hosts instead. Judged at 90 s, a 10 s agent (down after
# (3 + 1) x 10 s + the 60 s evaluation period = 100 s of silence) is never shown down while pushing.
PUSHES_MAX_AGE_SECONDS = 90.0
# The parts carry their own TTL: a deployment that stops listing leaves nothing behind for long.
PUSHES_TTL_SECONDS = 86400.0

Push = tuple[float, float | None]  # (newest receipt time, declared interval)


class PushSummary:
    """The `PUSHES` items in `table` (the samples table)."""

    def __init__(self, io: DynamoIO, table: str) -> None:
        self.io = io
        self.table = table
        self._saved: dict[str, Push] | None = None  # what this instance last wrote, and when
        self._saved_at = -math.inf

    def save(self, pushes: Mapping[str, Push]) -> None:
        """Replace the summary with `pushes` (every host a full listing read), unless this instance
        wrote the same less than half `PUSHES_MAX_AGE_SECONDS` ago: an evaluator tick while no host
        pushed writes nothing, and a quiet fleet's summary is still renewed before pages stop trusting
        it."""
        at = time.time()
        if pushes == self._saved and at - self._saved_at < PUSHES_MAX_AGE_SECONDS / 2:
            return
        body = sorted([host, r, i] for host, (r, i) in pushes.items())
        blobs = encode_parts(body)
        generation = s(f"{at:.6f}")
        items: list[Item] = [
            {
                "pk": s(PUSHES_PK),
                "sk": s(f"{k:02d}"),
                "g": generation,
                "at": n(at),
                "d": {"B": blob},
                "expires_at": n(int(at + PUSHES_TTL_SECONDS)),
            }
            for k, blob in enumerate(blobs)
        ]
        self.io.batch_put(self.table, items)
        self._saved, self._saved_at = dict(pushes), at

    def load(self) -> dict[str, Push] | None:
        """The summary, or None when there is none younger than `PUSHES_MAX_AGE_SECONDS` (one Query)."""
        parts = current_parts(list(self.io.query(self.table, PUSHES_PK)))
        if not parts or time.time() - float(parts[0]["at"]["N"]) > PUSHES_MAX_AGE_SECONDS:
            return None
        return {
            str(h): (float(r), None if i is None else float(i)) for it in parts for h, r, i in decode_part(it)
        }

    def newest(self, host: str) -> Push | None:
        """(receipt time, declared interval) of the host's newest raw chunk: one Query."""
        chunks = self.io.query(self.table, f"R#{host}", forward=False, limit=1, projection="r, i")
        item = next(chunks, None)
        return None if item is None else (float(item["r"]["N"]), num(item.get("i")))
