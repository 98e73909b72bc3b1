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
after a long outage). Writes go per host with content-hash de-duplication (every sample has a time),
so a request retried after a 503 halfway through stores each host's samples once.

Must not import `vigil.api`.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

from vigil.adapters.remote_write import STALE_NAN_BITS, WireSeries, decode_write_request
from vigil.config import Config
from vigil.domain.catalog import unit_max, unit_range_error
from vigil.domain.errors import Invalid
from vigil.domain.models import (
    HOST_RE,
    LABEL_KEY_RE,
    MAX_ABS_VALUE,
    MAX_FUTURE_SECONDS,
    MAX_LABEL_VALUE_LEN,
    MAX_LABELS,
    METRIC_NAME_RE,
    Point,
)
from vigil.domain.records import new_point
from vigil.ports import Store
from vigil.services.ingest import check_cardinality

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


def _series_identity(series: WireSeries, where: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    labels = dict(series.labels)
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
    return host, metric, tuple(sorted(labels.items()))


def _is_stale_marker(value: float) -> bool:
    bits: int = struct.unpack("<Q", struct.pack("<d", value))[0]
    return bits == STALE_NAN_BITS


def points_of(
    series_list: list[WireSeries], config: Config, now: float
) -> tuple[dict[str, list[Point]], RemoteWriteResult]:
    """Every series checked and mapped, grouped by host; nothing is written here.

    Raises:
        Invalid: naming the first series (`timeseries[i]`) Vigil cannot store, and why.
    """
    result = RemoteWriteResult()
    by_host: dict[str, list[Point]] = {}
    oldest = now - config.retention_seconds
    for i, series in enumerate(series_list):
        where = f"timeseries[{i}]"
        if series.native_histograms:
            raise Invalid(
                f"{where} carries native histograms, which Vigil does not store: set "
                "send_native_histograms: false (classic histograms arrive as _bucket series)",
                field=f"{where}.histograms",
            )
        if not series.values:
            continue
        host, metric, labels = _series_identity(series, where)
        points = by_host.setdefault(host, [])
        highest = min(unit_max(metric), MAX_ABS_VALUE)  # once per series, not per sample
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
            points.append(new_point(host, metric, labels, ts, value))
    return {h: p for h, p in by_host.items() if p}, result


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
    from vigil.services.rollups import note_late_samples

    wire = decode_write_request(body, content_type, content_encoding, MAX_INFLATED_BYTES)
    by_host, result = points_of(wire, config, now)
    for host in sorted(by_host):
        check_cardinality(store, host, by_host[host], config)
    for host in sorted(by_host):
        points = by_host[host]
        if store.put_samples(host, points, None, now, timestamped=True):
            note_late_samples(store, host, points, now)
        result.accepted += len(points)
        result.hosts.add(host)
    return result
