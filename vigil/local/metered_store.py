"""A `Store` wrapper for local mode that counts, for every store call, the DynamoDB request units the
DynamoDB adapter would be billed for the same call — ESTIMATED from rows and bytes, not measured:

- `put_samples`, modelled on `DynamoStore.put_samples`: the chunk items (one unit per started KB of
  data + ~100 bytes of keys), exactly for a host's first batch, for a batch with series new to the
  meter or of a size unlike the last measured one, and for every `MEASURE_EVERY`-th batch — the
  batch packed with the adapter's own `plan_chunks` — and between those scaled from the host's last
  packed batch by sample count (packing is compressing at zlib level 9: 5-6 us a sample, more than
  storing it; a steady host's batches pack to the same bytes per sample within a few per cent); a
  host's first batch, or one with new series or of another size, takes the units of the last packed
  batch of the same shape — the same (metric, labels) pairs, sample count and chunk windows, another
  host's: a fleet's hosts send the same series at the same cadence — packed again after 31 such uses.
  Against packing each: exact for every host of bench_peers' data (2,000-sample JSON and 80-sample
  remote-write batches) and of generated fleets of 320 hosts (60-1,000 series, 1-17 digits, 1-32
  units a batch), but for batches whose chunks end near a KB boundary: there one unit a chunk either
  way (-17 % to +20 % of a 4-unit batch; 1.1 % on the fleet's sum; docs/architecture.md), one
  unit for the batch claim (when a `batch_id` is given), one per series and per metric seen for the
  first time, one per host refresh (a host's first pushes while its cadence is learnt, then hourly)
  and one per freshness-marker move (at most every `FRESHNESS_LAG_SECONDS`).
- other writes (`put_*`, `record_*`, `touch_key`, `revoke_key`, `delete_doc`): one unit per started
  KB of the written documents' JSON; one unit per call or per row where no size is at hand.
- raw reads (`query_points`, `query_many`): per host, the returned points packed as chunk items,
  half a unit (eventually consistent) per started 4 KB, at least half a unit per host asked for —
  an under-estimate where DynamoDB reads whole chunks for one metric (chunks hold every metric of a
  batch), exact in size for the evaluator's and rollups' all-metrics reads.
- other reads: half a unit (a whole one for the adapter's strongly consistent reads: documents,
  key lookups) per started 4 KB of what the call returns (JSON size), at least one per call.
- `purge_expired`: nothing (DynamoDB's TTL deletes are free).
The documents that record an SNS publish (`notification_out`) and a delivery (`delivery`) also count
as one SNS publish / delivery. Everything else is passed through unchanged.

Must not import boto3 (it never talks to AWS).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

import orjson

from vigil.adapters.store.chunks import plan_chunks, window_count
from vigil.capabilities import Doc, Marks, put_series_batches
from vigil.config import Config
from vigil.domain.records import distinct_series_keys
from vigil.domain.series_batch import HostBatch, points_of
from vigil.local.usage_meter import UsageMeter
from vigil.ports import FRESHNESS_LAG_SECONDS, Store
from vigil.wiring import build_store

ITEM_OVERHEAD_BYTES = 100  # pk, sk, expiry and counters beside a chunk's data
_FREE = frozenset({"purge_expired", "ping", "close"})
_WRITES = frozenset({"put_rollups", "put_fleet", "record_latest", "put_key", "touch_key", "revoke_key"})
_WRITES |= {"record_errors", "put_doc", "put_docs", "delete_doc"}
_POINT_READS = frozenset({"query_points", "query_many"})
_CONSISTENT = frozenset({"get_doc", "list_docs", "find_key", "list_keys"})
LEARNING_PUSHES = 4  # DynamoStore refreshes a host's item on each push until its cadence is known
HOST_REFRESH_SECONDS = 3600.0
MEASURE_EVERY = 32  # a host's batches scaled from its last packed one before the next is packed again
MAX_SHAPES = 1024  # series sets remembered with their last packed batch; cleared when full
Shape = tuple[frozenset[tuple[str, Any]], int, int]  # `_shape`'s


@dataclasses.dataclass(slots=True)
class _Packed:
    """A host's last packed batch: its samples, chunk items and their data bytes, and how many
    batches were scaled from it since."""

    samples: int
    chunks: int
    data_bytes: int
    exact: float  # its chunk write units
    scaled: int = 0

    def resembles(self, samples: int) -> bool:
        return self.scaled < MEASURE_EVERY - 1 and self.samples <= 2 * samples and samples <= 2 * self.samples

    def units(self, samples: int) -> float:
        """The chunk write units of a batch of `samples` packed as this one was: per chunk its size in
        KB plus half a unit, the mean of rounding up a size known only to a few per cent (rounding
        the estimate up instead is one unit off for every batch of a host whose chunks land just
        under a KB boundary), at least one unit."""
        chunks = max(1, round(samples * self.chunks / self.samples))
        per_chunk = self.data_bytes * samples / self.samples / chunks + ITEM_OVERHEAD_BYTES
        return chunks * max(1.0, per_chunk / 1024 + 0.5)


def _shape(series: set[tuple[str, Any]], samples: int, times: Iterable[float]) -> Shape:
    """What a batch's chunk items depend on besides its host and values: its (metric, labels) pairs,
    sample count and chunk windows (`chunks.window_count`)."""
    return frozenset(series), samples, window_count(times)


def _bytes(value: Any) -> int:
    """JSON size of a result or argument (dataclasses as dicts), the stand-in for DynamoDB item size:
    `json.dumps`' length, separators (", ", ": ") included. A flat document (a late-sample marker) is
    encoded as is; anything else by orjson, its separators counted (exact unless a string holds "," or
    ":"): a series probe's 800 histogram `Rollup`s took 22 ms to size walked in Python, 5 with orjson.
    An array (numpy's, in `BucketArrays`) counts its bytes: formatting it as text was ~8 % of the 24 h
    per-host query's time."""
    if type(value) is dict and all(type(k) is str and type(v) in _SCALARS for k, v in value.items()):
        return len(_JSON.encode(value))
    arrays = 0

    def other(x: Any) -> Any:  # what orjson does not encode itself
        nonlocal arrays
        nbytes = getattr(x, "nbytes", None)
        if isinstance(nbytes, int) and hasattr(x, "dtype"):
            arrays += nbytes
            return None
        if isinstance(x, tuple | set | frozenset):  # a named tuple, a set
            return list(x)
        return str(x)

    text = orjson.dumps(value, default=other, option=orjson.OPT_NON_STR_KEYS)
    return len(text) + text.count(b",") + text.count(b":") + arrays


# `json.dumps(x, default=str)` builds a new encoder on every call (3x the time of the encoding
# itself for a marker document: ~18 us against ~6); one encoder made once encodes exactly the same.
_JSON = json.JSONEncoder(default=str)
_SCALARS = frozenset({int, float, str, bool, type(None)})


def _doc_write_units(doc: Any) -> float:
    """`write_units(_bytes(doc))`, without encoding a flat document whose JSON provably fits in one
    KB (a late-sample marker: ~100 per back-filled batch, each ~5 us to encode only to learn it is
    one unit)."""
    if type(doc) is dict and _flat_json_bound(doc) <= 1024:
        return 1.0
    return write_units(_bytes(doc))


def _flat_json_bound(doc: dict[Any, Any]) -> float:
    """At least `len(json.dumps(doc))` for a flat document, infinite for any other: per item its key
    and a text value at 12 characters each (`json.dumps` escapes a character outside ASCII as one or
    two `\\uXXXX`), 24 for any other scalar (a float's repr, `-1.2345678901234567e-308`, is the
    longest; an integer past 64 bits is not bounded here), 8 for quotes and separators."""
    size = 2
    for key, value in doc.items():
        kind = type(value)
        if type(key) is not str or kind not in _SCALARS or (kind is int and value.bit_length() > 64):
            return math.inf
        size += 12 * len(key) + (12 * len(value) if kind is str else 24) + 8
    return size


def read_units(size: int, calls: int = 1, consistent: bool = False) -> float:
    return (1.0 if consistent else 0.5) * max(calls, math.ceil(size / 4096))


def write_units(size: int) -> float:
    return float(max(1, math.ceil(size / 1024)))


class MeteredStore:
    """Delegates every call to `inner` and adds the estimated units to `meter`."""

    def __init__(self, inner: Store, meter: UsageMeter) -> None:
        self._inner = inner
        self._meter = meter
        self._lock = threading.Lock()
        self._series: dict[str, set[str]] = {}  # what the adapter would have registered per host
        self._metrics: set[str] = set()
        self._pushes: dict[str, tuple[int, float]] = {}  # host -> (pushes, last host refresh)
        self._fresh = -math.inf
        self._packed: dict[str, _Packed] = {}  # host -> its last packed batch
        self._shapes: dict[Shape, _Packed] = {}  # a batch's series (no host) -> the last packed batch of them

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr) or name.startswith("_") or name in _FREE:
            return attr

        def metered(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            if name in _POINT_READS:  # iterators: read them once here, hand out a copy
                result = list(result)
            with contextlib.suppress(Exception):  # metering must never fail a store call
                if name in _POINT_READS:
                    self._count_points(result, args, kwargs)
                else:
                    self._count(name, args, kwargs, result)
            return iter(result) if name in _POINT_READS else result

        return metered

    def put_samples(
        self, host: str, points: Sequence[Any], batch_id: str | None, now: float, *args: Any, **kwargs: Any
    ) -> bool:
        stored: bool = self._inner.put_samples(host, points, batch_id, now, *args, **kwargs)
        if points:
            with contextlib.suppress(Exception):  # metering must never fail a store call
                self._meter.add(wru=self._push_units(host, points, batch_id, now))
        return stored

    def put_series_batches(
        self, batches: Sequence[HostBatch], now: float, marks: Marks | None = None
    ) -> list[bool]:
        """`capabilities.SeriesBatchStore`, counted as `put_samples` of each batch's points would be,
        and the documents `marks` adds as `put_docs` of them would be."""
        written: list[Doc] = []

        def counted(kept: list[HostBatch]) -> Sequence[Doc]:
            docs = marks(kept) if marks is not None else []
            written.extend(docs)
            return docs

        stored = put_series_batches(self._inner, batches, now, None if marks is None else counted)
        with contextlib.suppress(Exception):  # metering must never fail a store call
            self._meter.add(wru=sum(self._batch_units(b, now) for b in batches if b.series))
            if written:
                self._count("put_docs", (written,), {}, None)
        return stored

    def _push_units(self, host: str, points: Sequence[Any], batch_id: str | None, now: float) -> float:
        return self._units(
            host,
            len(points),
            max(p.ts for p in points),
            distinct_series_keys(points),
            {p.metric for p in points},
            batch_id,
            now,
            lambda: _shape({(p.metric, p.labels) for p in points}, len(points), {p.ts for p in points}),
            lambda: points,
        )

    def _batch_units(self, batch: HostBatch, now: float) -> float:
        return self._units(
            batch.host,
            batch.count,
            batch.newest(),
            batch.series_keys(),
            batch.metrics(),
            batch.batch_id,
            now,
            lambda: _shape({(s.metric, s.labels) for s in batch.series}, batch.count, batch.times()),
            lambda: points_of(batch.host, batch.series),  # only when the batch is packed again
        )

    def _units(
        self,
        host: str,
        n: int,
        newest: float,
        series: set[str],
        metrics: set[str],
        batch_id: str | None,
        now: float,
        shape: Callable[[], Shape],
        points: Callable[[], Sequence[Any]],
    ) -> float:
        """What storing a batch of `n` samples costs the DynamoDB adapter, estimated (see the module)."""
        seen = max(now, newest)
        with self._lock:
            known = self._series.setdefault(host, set())
            new = series - known
            known |= new
            metrics = metrics - self._metrics
            self._metrics |= metrics
            pushes, refreshed = self._pushes.get(host, (0, -math.inf))
            refresh = bool(new) or pushes < LEARNING_PUSHES or seen - refreshed > HOST_REFRESH_SECONDS
            self._pushes[host] = (pushes + 1, seen if refresh else refreshed)
            fresh = seen - self._fresh >= FRESHNESS_LAG_SECONDS
            self._fresh = seen if fresh else self._fresh
            packed = self._packed.get(host)
            scale = packed is not None and not new and packed.resembles(n)
            if packed is not None and scale:
                packed.scaled += 1
        if packed is not None and scale:
            units = packed.units(n)
        elif packed is not None and packed.scaled >= MEASURE_EVERY - 1:  # the host's turn to be packed
            units = self._pack(host, shape(), points())
        else:
            units = self._unscaled(host, n, shape(), points)
        units += 1.0 if batch_id else 0.0
        return units + len(new) + len(metrics) + float(refresh) + float(fresh)

    def _unscaled(self, host: str, n: int, shape: Shape, points: Callable[[], Sequence[Any]]) -> float:
        """The chunk write units of a host's first batch, or one with new series or of a size unlike
        its last packed one: scaled from the last packed batch of the same shape (`_shape`; another
        host's: a fleet's hosts send the same series at the same cadence), which then stands for the
        host's own, unless that one was scaled `MEASURE_EVERY - 1` times already; else packed."""
        with self._lock:
            like = self._shapes.get(shape)
            if like is not None and like.scaled < MEASURE_EVERY - 1:
                like.scaled += 1
                self._packed[host] = _Packed(like.samples, like.chunks, like.data_bytes, like.exact)
                return like.exact
        return self._pack(host, shape, points())

    def _pack(self, host: str, shape: Shape, points: Sequence[Any]) -> float:
        """The chunk write units of `points` packed as the adapter packs them, remembered for the host
        and for its series (`shape`)."""
        chunks = plan_chunks(points, None)
        data_bytes = sum(len(c.data) for c in chunks)
        units = sum(write_units(len(c.data) + ITEM_OVERHEAD_BYTES) for c in chunks)
        with self._lock:
            self._packed[host] = _Packed(len(points), len(chunks), data_bytes, units)
            if len(self._shapes) >= MAX_SHAPES:
                self._shapes.clear()
            self._shapes[shape] = _Packed(len(points), len(chunks), data_bytes, units)
        return units

    def _count_points(self, points: list[Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        by_host: dict[str, list[Any]] = {}
        for p in points:
            by_host.setdefault(p.host, []).append(p)
        asked = kwargs.get("hosts", args[3] if len(args) > 3 else None)
        hosts = set(by_host) | set(asked or ())
        size = {
            h: sum(len(c.data) + ITEM_OVERHEAD_BYTES for c in plan_chunks(ps, None))
            for h, ps in by_host.items()
        }
        self._meter.add(rru=sum(read_units(size.get(h, 0)) for h in hosts) or 0.5)

    def _count(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
        if name in _WRITES:
            if name == "put_doc":
                kind = args[0] if args else kwargs.get("kind")
                self._meter.add(
                    sns_publishes=1.0 if kind == "notification_out" else 0.0,
                    sns_deliveries=1.0 if kind == "delivery" else 0.0,
                )
            if name == "put_docs":  # what `put_doc` one by one would count, added at once (a
                # back-filled JSON batch marks ~100 minutes: two `add`s each were 5 % of its time)
                docs = args[0] if args else kwargs.get("docs", [])
                kinds = [kind for kind, _id, _doc in docs]
                self._meter.add(
                    wru=sum(_doc_write_units(doc) for _kind, _id, doc in docs),
                    sns_publishes=float(kinds.count("notification_out")),
                    sns_deliveries=float(kinds.count("delivery")),
                )
                return
            if name in ("put_rollups", "put_fleet", "record_latest", "record_errors"):
                rows = args[0] if args else []
                self._meter.add(wru=sum(write_units(_bytes(r)) for r in rows))
            else:
                self._meter.add(
                    wru=write_units(_bytes(args[2]) if name == "put_doc" and len(args) > 2 else 0)
                )
            return
        self._meter.add(rru=read_units(_bytes(result), consistent=name in _CONSISTENT))


# Optional ports (`SummaryStore`, `ArraySummaryStore`, `HistogramSummaryStore`, … `DocBatchStore`) are
# detected with isinstance(), which on Python 3.12+ looks methods up statically and never reaches
# `__getattr__`: forward the ones the wrapped store has as real methods.
_OPTIONAL = ("summarise", "summarise_arrays", "summarise_histograms", "histogram_sample_times", "put_docs")


def metered(inner: Store, meter: UsageMeter) -> Store:
    """`inner` wrapped in a `MeteredStore` that also offers whichever optional ports `inner` offers."""

    def forward(name: str) -> Any:
        def method(self: MeteredStore, *args: Any, **kwargs: Any) -> Any:
            return self.__getattr__(name)(*args, **kwargs)

        return method

    methods = {name: forward(name) for name in _OPTIONAL if hasattr(inner, name)}
    cls = type(f"Metered{type(inner).__name__}", (MeteredStore,), methods)
    return cast(Store, cls(inner, meter))


def metered_store(config: Config, usage: UsageMeter) -> Store:
    """The local store, counted as DynamoDB request units for the cost readout (the server's and each
    worker process' own)."""
    return metered(build_store(config), usage)
