"""The host listing part of `DynamoStore` (an owned part, `dynamodb_parts`): `list_hosts` (every
host's item and newest push) and `window_and_hosts`, the evaluator's one read per host per tick
(docs/data-model.md, "Alert evaluation").

A host's newest push (receipt time `r`, declared interval `i`) is on its newest raw chunk, the item with
the highest sort key of `R#<host>`. `list_hosts` without a page reads it with a Query per host (limit 1)
and leaves what it read in the push summary (`dynamodb_pushes`). The evaluator needs both that and the
samples of its rules' window, so `window_and_hosts` reads each host's chunks from the window's start
with no upper bound: the last item returned is the newest chunk whatever its minute, so the window's
points and the newest push come from the same Query. Only a host with no chunk since the window's start
(silent for longer than the window) costs the newest-chunk Query as well. Must not import boto3.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence

from vigil.adapters.store.chunks import CHUNK_SPAN_SECONDS, minute_of, minute_prefix
from vigil.adapters.store.dynamodb_io import Item, num, s
from vigil.adapters.store.dynamodb_parts import Tables
from vigil.adapters.store.dynamodb_pushes import Push, PushSummary
from vigil.adapters.store.dynamodb_rollups import window_points
from vigil.adapters.store.fanout import ordered_map
from vigil.domain.cadence import Cadence
from vigil.domain.records import HostInfo, Point


class HostListing:
    """Every host with its newest push; the evaluator's window read together with it."""

    def __init__(self, tables: Tables, pushes: PushSummary) -> None:
        self.tables = tables
        self.io = tables.io
        self.meta_table = tables.meta
        self.samples_table = tables.samples
        self.pushes = pushes

    def list_hosts(
        self, after: str | None = None, limit: int | None = None, only: Callable[[str], bool] | None = None
    ) -> list[HostInfo]:
        """Pages read newest pushes from the summary full listings save (`dynamodb_pushes`); `only`
        reads those of its own hosts (a shard's share, not every host once per shard)."""
        listing = self.io.query(
            self.meta_table,
            "HOST",
            sk_condition="sk > :after" if after else "",
            values={":after": s(after)} if after else None,
            limit=limit,  # the page size of each Query; islice stops reading after the first page
        )
        full = after is None and limit is None and only is None
        summary = (None if full or only is not None else self.pushes.load()) or {}
        wanted = listing if only is None else (it for it in listing if only(it["sk"]["S"]))
        listed = list(itertools.islice(wanted, limit))
        # The host item is refreshed only every few minutes; the newest chunk knows better. Hosts the
        # summary lacks (all of them in a full listing) are read READ_CONCURRENCY at a time (`fanout`).
        found = self._newest_pushes([it["sk"]["S"] for it in listed if it["sk"]["S"] not in summary])
        return self._host_infos(listed, {**found, **summary}, save=full)

    def window_and_hosts(
        self, metrics: Sequence[str] | None, start: float, end: float, now: float
    ) -> tuple[list[Point], list[HostInfo]]:
        """`list(query_many(metrics, start, end, now=now))` and `list_hosts()`, with one Query per
        host for both (see the module)."""
        lo = max(start, now - self.tables.retention_seconds)
        listed = list(self.io.query(self.meta_table, "HOST"))
        names = [it["sk"]["S"] for it in listed]
        first = s(minute_prefix(minute_of(lo - CHUNK_SPAN_SECONDS)))
        last = minute_prefix(minute_of(end)) + "~"  # query_many's upper bound: later chunks are not decoded
        wanted = None if metrics is None else frozenset(metrics)

        def read(host: str) -> list[Item]:
            return list(
                self.io.query(
                    self.samples_table, f"R#{host}", sk_condition="sk >= :lo", values={":lo": first}
                )
            )

        points: list[Point] = []
        newest: dict[str, Push] = {}
        for host, items in zip(names, ordered_map(read, names, self.tables.read_concurrency), strict=True):
            if items:  # ascending sort keys: the last is the host's newest chunk
                newest[host] = (float(items[-1]["r"]["N"]), num(items[-1].get("i")))
            if lo <= end:
                points.extend(
                    window_points(host, (it for it in items if it["sk"]["S"] <= last), lo, end, wanted, now)
                )
        newest.update(self._newest_pushes([h for h in names if h not in newest]))  # silent past the window
        return points, self._host_infos(listed, newest, save=True)

    def _newest_pushes(self, hosts: list[str]) -> dict[str, Push]:
        """Each host's newest push from its newest chunk (one Query each, READ_CONCURRENCY at a time);
        hosts without a chunk are left out."""
        found = zip(hosts, ordered_map(self.pushes.newest, hosts, self.tables.read_concurrency), strict=True)
        return {host: push for host, push in found if push is not None}

    def _host_infos(self, listed: list[Item], newest: dict[str, Push], *, save: bool) -> list[HostInfo]:
        """Host items with their newest push (`newest`; the item's last-seen for a host without a
        chunk), by host; `save`: a full listing, left behind as the push summary."""
        read: dict[str, Push] = {}
        out = []
        for it in listed:
            host = it["sk"]["S"]
            last = float(it["last_seen"]["N"])
            push = read[host] = newest.get(host) or (last, None)
            gaps = tuple(json.loads(it["gaps"]["S"])) if "gaps" in it else ()
            out.append(
                HostInfo(
                    host,
                    float(it["first_seen"]["N"]),
                    max(last, push[0]),
                    int(num(it.get("series")) or 0),
                    Cadence(push[0], gaps, push[1]),
                )
            )
        if save:
            self.pushes.save(read)
        return sorted(out, key=lambda h: h.host)
