"""The newest-sample item of `DynamoStore`, all `/health` reads besides its ping.

Item (docs/data-model.md): `FRESH` / `FRESH` (meta table): `t`, the newest receive time, written by
ingest at most every `FRESHNESS_LAG_SECONDS` per instance (conditionally, so it only moves forward);
`/health` reads it with one GetItem. A module of its own, needing only `dynamodb_io`, so the health
function's cold start loads none of the store's other parts. Must not import boto3 at module level.
"""

from __future__ import annotations

import contextlib
import math
import threading

from vigil.adapters.store.dynamodb_io import ConditionFailed, DynamoIO, n, s
from vigil.ports import FRESHNESS_LAG_SECONDS

KEY = {"pk": s("FRESH"), "sk": s("FRESH")}


class Freshness:
    """Moves and reads the FRESH item. Thread-safe."""

    def __init__(self, io: DynamoIO, meta_table: str) -> None:
        self.io = io
        self.meta_table = meta_table
        self._lock = threading.Lock()
        self._written = -math.inf  # when this instance last moved the item

    def note(self, seen: float) -> None:
        """Move the FRESH item to `seen`, at most every FRESHNESS_LAG_SECONDS per instance (a write unit
        each)."""
        with self._lock:
            if seen - self._written < FRESHNESS_LAG_SECONDS:
                return
            self._written = seen
        with contextlib.suppress(ConditionFailed):  # another instance wrote a newer time
            self.io.call(
                "update_item",
                TableName=self.meta_table,
                Key=KEY,
                UpdateExpression="SET t = :t",
                ConditionExpression="attribute_not_exists(t) OR t < :t",
                ExpressionAttributeValues={":t": n(seen)},
            )

    def last_ingest(self) -> float | None:
        item = self.io.call("get_item", TableName=self.meta_table, Key=KEY).get("Item")
        return None if item is None else float(item["t"]["N"])
