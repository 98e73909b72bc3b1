"""How `DynamoStore`'s parts are put together: what they share (`Tables`) and the narrow interfaces
one part offers another (typed Protocols), so each part is an owned collaborator with its own state
rather than a mixin reaching into the store's.

The store (`dynamodb`) builds one `Tables` and hands it to each part: keys and error groups
(`dynamodb_meta`), documents (`dynamodb_docs`), rollups (`dynamodb_rollups`), the fleet tier and
freshness (`dynamodb_fleet`), the series registry (`dynamodb_series`) and raw-sample reads
(`dynamodb_samples`). A part that needs another sees only the Protocol below. Must not import boto3.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from vigil.adapters.store.dynamodb_io import DynamoIO
from vigil.adapters.store.fanout import READ_CONCURRENCY


@dataclass
class Tables:
    """The request layer, both tables, the raw retention, and how many per-host reads run at once
    (`fanout`; 1: one after another). Shared, not copied: a change to `read_concurrency` reaches every
    part."""

    io: DynamoIO
    samples: str
    meta: str
    retention_seconds: float
    read_concurrency: int = READ_CONCURRENCY


class HostNames(Protocol):
    """Every host the meta table lists (rollup and sample reads without a host filter)."""

    def host_names(self) -> list[str]: ...


class SeriesCatalog(HostNames, Protocol):
    """The series keys a host is known to have (`latest_points` stops reading once each has a point)."""

    def known(self, host: str, wanted: Collection[str] = ()) -> set[str]: ...
