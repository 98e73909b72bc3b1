"""Prometheus remote-write in (`POST /api/v1/write`): series from any Prometheus, Grafana Agent/Alloy,
vmagent or OpenTelemetry Collector stored as Vigil samples.

Mapping (docs/prometheus.md): `__name__` → metric; host = the `host` label, else `instance` without
its port (`web-1:9100` → `web-1`, `[::1]:9100` → `::1`); every other label stays a label (`job`
included; `instance` too when `host` named the host). Timestamps are milliseconds.

The whole request is checked before anything is written, so a 4xx (which Prometheus does not retry)
stores nothing: a series without a metric name or host, a name or label Vigil cannot hold, a native
histogram (not supported: turn `send_native_histograms` off), a sample more than 10 minutes ahead.
Not stored, by design and counted in the answer's log line: Prometheus' stale markers (a series ended),
other NaN/±Inf values (no number to keep) and samples older than the raw retention (a replayed WAL
after a long outage). Each host's samples are a batch of their own with content-hash de-duplication
(every sample has a time), all in one transaction where the store offers it
(`capabilities.put_host_batches`, else one write per host), so a request retried after a 503 — even
halfway through, on a store writing host by host — stores each host's samples once.

Must not import `vigil.api`.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING

from vigil.adapters.remote_write import STALE_NAN_BITS, WireSeries, decode_columns
from vigil.adapters.remote_write_columns import WireColumns, label_pairs
from vigil.capabilities import put_series_batches
from vigil.config import Config
from vigil.domain.catalog import unit_max, unit_range_error
from vigil.domain.errors import Invalid
from vigil.domain.limits import (
    HOST_RE,
    LABEL_KEY_RE,
    MAX_ABS_VALUE,
    MAX_FUTURE_SECONDS,
    MAX_LABEL_VALUE_LEN,
    MAX_LABELS,
    METRIC_NAME_RE,
)
from vigil.domain.series_batch import HostBatch, SeriesSamples
from vigil.ports import Store
from vigil.services.ingest import check_series_cardinality

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# Inflated WriteRequest bytes accepted per request: Prometheus sends at most `max_samples_per_send`
# (default 2,000) samples per request, a few hundred KB; 32 MiB leaves room for large batches.
MAX_INFLATED_BYTES = 32 * 1024 * 1024


@dataclass
class RemoteWriteResult:
    accepted: int = 0
    stale_markers: int = 0
    not_a_number: int = 0
    too_old: int = 0
    hosts: set[str] = field(default_factory=set)


def _host_of(labels: dict[str, str], where: str) -> str:
    host = labels.pop("host", None)
    if host is None and "instance" in labels:
        instance = labels.pop("instance")
        if instance.startswith("["):  # [v6-address]:port
            host = instance[1:].partition("]")[0]
        else:
            name, sep, port = instance.rpartition(":")
            host = name if sep and port.isdigit() and ":" not in name else instance
    if not host:
        raise Invalid(
            f"{where} has no `host` or `instance` label: add one (e.g. external_labels: {{host: …}})",
            field=f"{where}.labels",
        )
    if not HOST_RE.match(host):
        raise Invalid(f"{where}: host {host!r} must match {HOST_RE.pattern}", field=f"{where}.labels.host")
    return host


Identity = tuple[str, str, tuple[tuple[str, str], ...], float]  # host, metric, labels, highest value


def _series_identity(sent: dict[str, str], where: str) -> Identity:
    labels = dict(sent)
    metric = labels.pop("__name__", "")
    if not METRIC_NAME_RE.match(metric):
        raise Invalid(
            f"{where}: metric name {metric!r} must match {METRIC_NAME_RE.pattern}",
            field=f"{where}.labels.__name__",
        )
    host = _host_of(labels, where)
    if len(labels) > MAX_LABELS:
        raise Invalid(
            f"{where} ({metric}) has {len(labels)} labels besides its name and host; at most {MAX_LABELS} "
            "(drop some with write_relabel_configs)",
            field=f"{where}.labels",
        )
    for key, value in labels.items():
        if not LABEL_KEY_RE.match(key):
            raise Invalid(
                f"{where}: label name {key!r} must match {LABEL_KEY_RE.pattern}", field=f"{where}.labels"
            )
        if len(value) > MAX_LABEL_VALUE_LEN:
            raise Invalid(
                f"{where}: label {key!r} value is longer than {MAX_LABEL_VALUE_LEN} characters",
                field=f"{where}.labels",
            )
    return host, metric, tuple(sorted(labels.items())), min(unit_max(metric), MAX_ABS_VALUE)


# A sender repeats the same series in every request: their mapped identities, by the label fields'
# bytes as sent (a pure function of them; refusals are not kept), so a known series costs one dict
# lookup. Bounded: cleared whole when full.
_IDENTITIES: dict[bytes, Identity] = {}
MAX_IDENTITIES = 65_536


def _known_identity(key: bytes, where: str) -> Identity:
    """`_series_identity` of the series whose label fields are `key`, remembered."""
    found = _IDENTITIES.get(key)
    if found is None:
        found = _series_identity(label_pairs(key), where)
        if len(_IDENTITIES) >= MAX_IDENTITIES:
            _IDENTITIES.clear()
        _IDENTITIES[key] = found
    return found


def _is_stale_marker(value: float) -> bool:
    bits: int = struct.unpack("<Q", struct.pack("<d", value))[0]
    return bits == STALE_NAN_BITS


def batches_of(wire: WireColumns, config: Config, now: float) -> tuple[list[HostBatch], RemoteWriteResult]:
    """Every series checked and mapped, grouped by host (sorted), as columns; nothing is written here.

    Raises:
        Invalid: naming the first series (`timeseries[i]`) Vigil cannot store, and why.
    """
    import numpy as np

    result = RemoteWriteResult()
    by_host: dict[str, list[SeriesSamples]] = {}
    oldest = now - config.retention_seconds
    latest = now + MAX_FUTURE_SECONDS
    ts_ms, values = wire.timestamps_ms, wire.values
    # the usual sample, checked for the whole request at once: a number, its time in the window and
    # exact as a float (|ms| < 2**53); a series with any other goes sample by sample, to skip and
    # refuse exactly as that reports. Each value's upper bound (ratio metrics) is checked per series.
    seconds = ts_ms / 1000.0
    usual = (
        np.isfinite(values)
        & (values >= -MAX_ABS_VALUE)
        & (seconds <= latest)
        & (seconds >= oldest)
        & (np.abs(ts_ms) < 2**53)
    )
    bounds = wire.bounds
    filled = [i for i in range(len(wire.keys)) if bounds[i + 1] > bounds[i]]
    starts = np.array([bounds[i] for i in filled], dtype=np.int64)
    whole = np.logical_and.reduceat(usual, starts) if len(starts) else np.empty(0, bool)
    tops = np.maximum.reduceat(values, starts) if len(starts) else np.empty(0)
    seconds_of, values_of = seconds.tolist(), values.tolist()
    fine = whole.tolist()
    top = tops.tolist()
    body, ordered = _packed_bodies(seconds, values, bounds, starts)
    position = 0
    known = _IDENTITIES
    series_of = zip(wire.keys, wire.native_histograms, bounds, islice(bounds, 1, None), strict=False)
    for i, (key, hist, lo, hi) in enumerate(series_of):  # Python per series: kept lean
        if hist:
            raise Invalid(
                f"timeseries[{i}] carries native histograms, which Vigil does not store: set "
                "send_native_histograms: false (classic histograms arrive as _bucket series)",
                field=f"timeseries[{i}].histograms",
            )
        if lo == hi:
            continue
        identity = known.get(key)
        if identity is None:
            identity = _known_identity(key, f"timeseries[{i}]")
        host, metric, labels, highest = identity
        if fine[position] and top[position] <= highest:
            packed = body[16 * lo : 16 * hi] if ordered[position] else None
            kept = SeriesSamples(metric, labels, seconds_of[lo:hi], values_of[lo:hi], packed)
        else:
            series = WireSeries({}, ts_ms[lo:hi].tolist(), values_of[lo:hi], hist)
            kept = _checked_samples(series, f"timeseries[{i}]", metric, labels, highest, oldest, now, result)
        position += 1
        if kept.ts:
            group = by_host.get(host)
            if group is None:
                by_host[host] = [kept]
            else:
                group.append(kept)
    return [HostBatch(h, s) for h, s in sorted(by_host.items())], result


def _packed_bodies(
    seconds: npt.NDArray[np.float64],
    values: npt.NDArray[np.float64],
    bounds: list[int],
    starts: npt.NDArray[np.int64],
) -> tuple[bytes, list[bool]]:
    """Every series' `SeriesSamples.packed` of the request in one buffer — series i's times then its
    values at bytes [16 lo, 16 hi) — and, per series with samples (`starts`), whether its times
    ascend without repeats (only then is its slice its body). Made with a few array operations for
    the whole request instead of packing each series' lists twice (content key, head pack)."""
    import numpy as np

    n = len(seconds)
    per_series = np.diff(np.asarray(bounds, dtype=np.int64))
    at = np.arange(n, dtype=np.int64)
    out = np.empty(2 * n, dtype="<f8")
    out[at + np.repeat(np.asarray(bounds[:-1], dtype=np.int64), per_series)] = seconds
    out[at + np.repeat(np.asarray(bounds[1:], dtype=np.int64), per_series)] = values
    rising = np.ones(n, dtype=bool)
    rising[1:] = seconds[1:] > seconds[:-1]
    rising[starts] = True  # a series' first sample follows no sample of its own
    ordered = np.logical_and.reduceat(rising, starts).tolist() if len(starts) else []
    return out.tobytes(), ordered


def _checked_samples(
    series: WireSeries,
    where: str,
    metric: str,
    labels: tuple[tuple[str, str], ...],
    highest: float,
    oldest: float,
    now: float,
    result: RemoteWriteResult,
) -> SeriesSamples:
    """A series' storable samples, one by one: stale markers, NaN/Inf and samples past the retention
    skipped (and counted in `result`), the first sample ahead of the clock or out of range refused."""
    kept = SeriesSamples(metric, labels, [], [])
    for ts_ms, value in zip(series.timestamps_ms, series.values, strict=True):
        if not math.isfinite(value):
            if math.isnan(value) and _is_stale_marker(value):
                result.stale_markers += 1
            else:
                result.not_a_number += 1
            continue
        ts = ts_ms / 1000.0
        if ts > now + MAX_FUTURE_SECONDS:
            raise Invalid(
                f"{where} ({metric}) has a sample more than 10 minutes in the future: check the clock",
                field=f"{where}.samples.timestamp",
            )
        if ts < oldest:
            result.too_old += 1
            continue
        if value > highest or value < -MAX_ABS_VALUE:
            why = unit_range_error(metric, value) or f"values must be within ±{MAX_ABS_VALUE:g}"
            raise Invalid(f"{where} ({metric}): {why}", field=f"{where}.samples.value")
        kept.ts.append(ts)
        kept.values.append(value)
    return kept


def ingest_remote_write(
    store: Store,
    config: Config,
    body: bytes,
    content_type: str | None,
    content_encoding: str | None,
    now: float,
) -> RemoteWriteResult:
    """The whole of one `POST /api/v1/write` below HTTP.

    Raises:
        UnsupportedMediaType, TooLarge, Invalid: from decoding and checking (nothing stored).
        LimitExceeded: a host would pass its cardinality limits (checked for every host first).
        Unavailable: the store could not write (503; the sender retries, hosts already stored dedupe).
    """
    from vigil.services.rollups import late_batch_markers

    wire = decode_columns(body, content_type, content_encoding, MAX_INFLATED_BYTES, _IDENTITIES)
    batches, result = batches_of(wire, config, now)
    for batch in batches:
        check_series_cardinality(store, batch.host, batch.series_keys(), config)
    # every host in one transaction where the store can (each keeps its own content key), with the
    # stored hosts' late-sample markers (late samples re-trigger their rollup hours and fleet minutes)
    put_series_batches(store, batches, now, lambda stored: late_batch_markers(stored, now))
    for batch in batches:
        result.accepted += batch.count
        result.hosts.add(batch.host)
    return result
