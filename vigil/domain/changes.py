"""What changed since a dashboard was last told: the compact, coalesced message of pushed updates.

A `Pending` collects the hosts and metrics touched by stored batches and whether alert state
changed, until it is sent (at most once a second per connection, the sender decides when). It never
holds samples, and it is bounded: past `MAX_NAMES` hosts (or metrics) it sends `null` for that list,
meaning "any" — the dashboard then re-reads everything on screen. Standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field

MAX_NAMES = 64


@dataclass
class Pending:
    hosts: set[str] | None = field(default_factory=set)  # None: more than MAX_NAMES, i.e. any
    metrics: set[str] | None = field(default_factory=set)
    alerts: bool = False

    def __bool__(self) -> bool:
        return self.alerts or self.hosts is None or self.metrics is None or bool(self.hosts)

    def add_samples(self, host: str, metrics: Collection[str]) -> None:
        self.hosts = _bounded_union(self.hosts, (host,))
        self.metrics = _bounded_union(self.metrics, metrics)

    def add_alerts(self) -> None:
        self.alerts = True

    def message(self) -> bytes:
        """`{"hosts": [...]|null, "metrics": [...]|null, "alerts": bool}` as compact JSON."""
        body = {
            "hosts": None if self.hosts is None else sorted(self.hosts),
            "metrics": None if self.metrics is None else sorted(self.metrics),
            "alerts": self.alerts,
        }
        return json.dumps(body, separators=(",", ":")).encode()


def _bounded_union(current: set[str] | None, new: Collection[str]) -> set[str] | None:
    if current is None:
        return None
    current.update(new)
    return None if len(current) > MAX_NAMES else current
