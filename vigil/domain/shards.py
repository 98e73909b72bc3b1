"""Which share of the fleet one invocation of a sharded scheduled job works on.

A job split across N concurrent invocations (the rollup job in AWS: one EventBridge target per shard,
each with the constant input `{"shard": i, "shards": N}`) gives each host to exactly one of them: the
shard its stable hash falls in. The hash is of the host name only (BLAKE2b, not Python's `hash`, which
is salted per process), so a host stays in its shard from run to run and across containers, and a
retried or overlapping invocation of the same shard redoes the same hosts. Stdlib only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vigil.domain.errors import Invalid

MAX_SHARDS = 100  # far more than any schedule uses (2 rules of 5 targets); bounds a bad input


def shard_of(host: str, shards: int) -> int:
    """The shard (0 ≤ shard < `shards`) that owns `host`, the same in every process."""
    digest = hashlib.blake2b(host.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count`; `Shard()` is the whole fleet (one unsharded run)."""

    index: int = 0
    count: int = 1

    @property
    def whole(self) -> bool:
        return self.count == 1

    def owns(self, host: str) -> bool:
        return self.whole or shard_of(host, self.count) == self.index

    @property
    def name(self) -> str:
        """How the shard's own progress document is named (`<index>-of-<count>`)."""
        return f"{self.index}-of-{self.count}"

    @classmethod
    def parse(cls, detail: Mapping[str, Any]) -> Shard:
        """The shard a scheduled event's input names (`shard`, `shards`); the whole fleet without them.

        Raises:
            Invalid: `shard`/`shards` not integers with 0 ≤ shard < shards ≤ MAX_SHARDS.
        """
        if "shard" not in detail and "shards" not in detail:
            return cls()
        index, count = detail.get("shard"), detail.get("shards")
        if not isinstance(index, int) or isinstance(index, bool):
            raise Invalid("shard must be an integer", field="shard")
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_SHARDS:
            raise Invalid(f"shards must be an integer from 1 to {MAX_SHARDS}", field="shards")
        if not 0 <= index < count:
            raise Invalid("shard must be at least 0 and below shards", field="shard")
        return cls(index, count)
