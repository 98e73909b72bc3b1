"""A pushed batch as columns: per series its times and values in two lists, no `Point` per sample.

Both ingest decoders (JSON's fast path, remote-write) build these directly; the SQLite store packs
each series' lists as one head row (`capabilities.SeriesBatchStore`). A store without that capability
gets the same samples as `Point`s (`points_of`), so what is stored never depends on the path. Plain
values only: a batch with a histogram sample goes as `Point`s.

Standard library and `vigil.domain.records`/`identity` only.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from vigil.domain.identity import series_key
from vigil.domain.records import Point, new_point

Labels = tuple[tuple[str, str], ...]


# Not frozen: made once per series of every request (500 for a remote-write request), and a frozen
# dataclass' __init__ sets each field through object.__setattr__ (4x the time); nothing changes them
# after the decoder made them, and nothing hashes them (their lists cannot be hashed).
@dataclass(slots=True)
class SeriesSamples:
    """One series' samples of a batch, in the order sent (times may repeat: the last one wins).
    `packed`, when a decoder made it for the whole request at once (remote-write): `ts` then `values`
    as little-endian float64, given only when `ts` is ascending without repeats — the bytes both the
    content key and the SQLite head pack are made of, so neither packs the lists again."""

    metric: str
    labels: Labels
    ts: list[float]
    values: list[float]
    packed: bytes | None = None


@dataclass(slots=True)
class HostBatch:
    """One host's samples of a request, checked and ready to store; `batch_id` (the body's, else the
    `Idempotency-Key`) and `timestamped` (every sample carried a time) as `Store.put_samples` takes
    them."""

    host: str
    series: list[SeriesSamples]
    batch_id: str | None = None
    timestamped: bool = True
    push_interval: float | None = None
    # the guard and the cost meter both ask for them: made once (`series_keys`)
    _keys: list[set[str]] = field(default_factory=list, init=False, repr=False, compare=False)

    @property
    def key(self) -> str | None:
        """The batch's identity with `batches.batch_key`'s rules: `id:<client key>`, else a content
        hash when every sample had a time (`content_key`), else None."""
        if self.batch_id:
            return f"id:{self.batch_id}"
        return content_key(self.host, self.series) if self.timestamped else None

    @property
    def count(self) -> int:
        return sum(len(s.ts) for s in self.series)

    def times(self) -> Iterable[float]:
        """The batch's distinct sample times (its series usually share them), made at C speed."""
        return set().union(*(s.ts for s in self.series))

    def metrics(self) -> set[str]:
        return {s.metric for s in self.series}

    def series_keys(self) -> set[str]:
        """The batch's distinct series keys (made on the first call; the caller must not change it)."""
        if not self._keys:
            self._keys.append({series_key(self.host, s.metric, s.labels) for s in self.series})
        return self._keys[0]

    def newest(self) -> float:
        """The newest sample's time (a packed series' last: its times ascend)."""
        return max(s.ts[-1] if s.packed is not None else max(s.ts) for s in self.series)


def points_of(host: str, series: Sequence[SeriesSamples]) -> list[Point]:
    """The same samples as `Point`s, series by series."""
    return [
        new_point(host, s.metric, s.labels, ts, value)
        for s in series
        for ts, value in zip(s.ts, s.values, strict=True)
    ]


def content_key(host: str, series: Sequence[SeriesSamples]) -> str:
    """`sha:<hex>` of the host's series as sent: their names, label sets and the float64 bytes of
    their times and values (a series made once, not a text per sample). The same content gives the
    same key, so an exact replay of a batch whose samples all carry a time is stored once."""
    digest = hashlib.blake2b(host.encode(), digest_size=16)
    for s in series:
        n = len(s.ts)
        head = _HEADS.get((s.metric, s.labels, n))
        if head is None:
            head = _series_head(s.metric, s.labels, n)
        digest.update(head)
        digest.update(struct.pack(f"<{2 * n}d", *s.ts, *s.values) if s.packed is None else s.packed)
    return "sha:" + digest.hexdigest()


# A series' part of the content key before its numbers (the labels' repr is most of the key's time)
# by (metric, labels, sample count): a sender repeats its series and batch sizes. Cleared when full.
_HEADS: dict[tuple[str, Labels, int], bytes] = {}
MAX_HEADS = 65_536


def _series_head(metric: str, labels: Labels, n: int) -> bytes:
    head = f"{metric}\x1f{labels}\x1f{n}\x1e".encode()
    if len(_HEADS) >= MAX_HEADS:
        _HEADS.clear()
    _HEADS[metric, labels, n] = head
    return head
