"""The fast path of `POST /v1/samples`: one typed decode of the body (msgspec, in C) and the checks of
the pydantic wire models (`vigil.domain.models.SampleBatch`), straight into columns per series
(`series_batch.SeriesSamples`: no object per sample, one pass, each series' name and labels checked
once) — or, for a batch with a histogram, into `Point`s after a shape pass (1,000 samples through the
models cost ~10 ms here; through the columns ~1 ms).

The models stay the definition of what is valid. `fast_checked_batch` answers None for any body it
does not accept outright — malformed JSON, a wrong type, a broken rule, anything unusual — and the
caller then runs the same body through the model path (`services.ingest.checked_batch`), whose answer
is final: a refusal keeps the message and field the models give, and a body this path was too strict
about is still accepted. What this path must never do is accept a body the models refuse or build
other points than they would; `tests/unit/test_fast_samples.py` holds it to that over generated
batches. Histograms (rare, and with rules of their own) are validated by `HistogramIn` itself.

Checks that run after the models in both paths (timestamps inside the acceptance window, values in
their unit's range) raise `Invalid` here exactly as there, sample by sample in the same order.

Imports msgspec, orjson, pydantic (histograms only), the domain and `services.ingest`.
"""

from __future__ import annotations

import re
import sys
from array import array
from itertools import islice
from operator import lt

import msgspec
import orjson
from pydantic import ValidationError

from vigil.domain.catalog import unit_max, unit_range_error
from vigil.domain.errors import Invalid
from vigil.domain.models import (
    BATCH_ID_RE,
    HOST_RE,
    LABEL_KEY_RE,
    MAX_ABS_VALUE,
    MAX_BATCH_ID_LEN,
    MAX_BATCH_SAMPLES,
    MAX_FUTURE_SECONDS,
    MAX_LABEL_VALUE_LEN,
    MAX_LABELS,
    MAX_PUSH_INTERVAL_SECONDS,
    METRIC_NAME_RE,
    Histogram,
    HistogramIn,
    Point,
)
from vigil.domain.records import new_point
from vigil.domain.series_batch import Labels, SeriesSamples
from vigil.domain.timeparse import MAX_EPOCH_SECONDS
from vigil.services.ingest import CheckedBatch, accepted_time, histogram_record

# pydantic matches `pattern=` with Rust's regex, where `$` is the end of the text; Python's `$` also
# matches before a final newline, so the models' patterns are applied here with `fullmatch`.
_HOST = re.compile(HOST_RE.pattern)
_METRIC = re.compile(METRIC_NAME_RE.pattern)
_BATCH_ID = re.compile(BATCH_ID_RE.pattern)
_NO_HISTOGRAM = msgspec.Raw(b"null")


class _Sample(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    metric: str
    value: int | float | None = None
    # kept as raw JSON: an absent histogram and `null` both arrive as `_NO_HISTOGRAM`
    histogram: msgspec.Raw = _NO_HISTOGRAM
    ts: int | float | str | None = None
    labels: dict[str, str] = {}


class _Batch(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    host: str
    samples: list[_Sample]
    batch_id: str | None = None
    push_interval: int | float | None = None


_DECODER = msgspec.json.Decoder(_Batch)
_BIG_ENDIAN = sys.byteorder == "big"


def fast_checked_batch(body: str | bytes, now: float, retention_seconds: float) -> CheckedBatch | None:
    """The checked batch of a JSON body, or None when the model path must decide.

    Raises:
        Invalid: the body is valid for the models, but a timestamp lies outside the acceptance window
            or a value outside its unit's range (the first such sample, as the model path reports it).
    """
    try:
        batch = _DECODER.decode(body)
    except msgspec.DecodeError:  # includes ValidationError: a type or field the models would refuse
        return None
    if not _batch_fields_valid(batch):
        return None
    samples = batch.samples
    interval = None if batch.push_interval is None else float(batch.push_interval)
    if all(s.histogram is _NO_HISTOGRAM for s in samples):  # plain values: nearly every batch
        uniform = _uniform_columns(samples, now, retention_seconds)
        if uniform is not None:
            return CheckedBatch(batch.host, batch.batch_id, interval, [], True, uniform)
        plain = _plain_columns(samples, now, retention_seconds)
        if plain is None:
            return None
        columns, timestamped = plain
        return CheckedBatch(batch.host, batch.batch_id, interval, [], timestamped, columns)
    # With a histogram (or an explicit `"histogram": null`): points. Every sample's shape first, so a
    # shape error anywhere wins over a time error in an earlier sample, as it does on the model path
    # (pydantic refuses the body before any time is read).
    hists = _valid_shapes(samples)
    if hists is None:
        return None
    host = batch.host
    points: list[Point] = []
    labels_of: dict[tuple[tuple[str, str], ...], Labels] = {}
    unit_maxima: dict[str, float] = {}
    # A number inside the acceptance window (and 1970..9999) is what `accepted_time` would return as
    # a float; anything else — strings, no ts, out of the window — goes through it.
    earliest = max(now - retention_seconds, 0.0)
    latest = min(now + MAX_FUTURE_SECONDS, MAX_EPOCH_SECONDS)
    timestamped = True
    for i, s in enumerate(samples):
        ts = s.ts
        kind = type(ts)
        if (kind is float or kind is int) and earliest <= ts <= latest:  # type: ignore[operator]
            ts = float(ts)  # type: ignore[arg-type]
        else:
            timestamped = timestamped and ts is not None
            ts = accepted_time(ts, now=now, retention_seconds=retention_seconds, field=f"samples[{i}].ts")
        metric, value = s.metric, s.value
        if value is not None:
            value = float(value)
            highest = unit_maxima.get(metric)
            if highest is None:
                highest = unit_maxima[metric] = unit_max(metric)
            if value > highest:
                raise Invalid(unit_range_error(metric, value) or "", field=f"samples[{i}].value")
        labels: Labels = ()
        if s.labels:
            sent = tuple(s.labels.items())
            labels = labels_of.get(sent)  # type: ignore[assignment]
            if labels is None:
                labels = labels_of[sent] = tuple(sorted(sent))  # one tuple per label set
        points.append(new_point(host, metric, labels, ts, value, hists.get(i)))
    return CheckedBatch(host, batch.batch_id, interval, points, timestamped)


def _batch_fields_valid(batch: _Batch) -> bool:
    if not _HOST.fullmatch(batch.host):
        return False
    bid = batch.batch_id
    if bid is not None and (len(bid) > MAX_BATCH_ID_LEN or not _BATCH_ID.fullmatch(bid)):
        return False
    interval = batch.push_interval
    if interval is not None and not 0 < interval <= MAX_PUSH_INTERVAL_SECONDS:
        return False
    return 1 <= len(batch.samples) <= MAX_BATCH_SAMPLES


def _valid_shapes(samples: list[_Sample]) -> dict[int, Histogram] | None:
    """The samples' histogram records by index when every sample passes the models' rules, else None."""
    metrics_ok: set[str] = set()  # a batch repeats a few metric names and label keys many times
    keys_ok: set[str] = set()
    hists: dict[int, Histogram] = {}
    for i, s in enumerate(samples):
        metric = s.metric
        if metric not in metrics_ok:
            if not _METRIC.fullmatch(metric):
                return None
            metrics_ok.add(metric)
        value = s.value
        has_hist = s.histogram != _NO_HISTOGRAM
        if (value is None) == (not has_hist):  # exactly one of the two
            return None
        # the bounds refuse NaN and ±inf too; an int beyond them is left to the model path
        if value is not None and not -MAX_ABS_VALUE <= value <= MAX_ABS_VALUE:
            return None
        ts = s.ts
        if type(ts) is int and not 0 <= ts <= MAX_EPOCH_SECONDS:
            return None  # out of range for any time; the model path reports it
        if s.labels and not _labels_valid(s.labels, keys_ok):
            return None
        if has_hist:
            try:
                hists[i] = histogram_record(HistogramIn.model_validate(orjson.loads(memoryview(s.histogram))))
            except (ValidationError, orjson.JSONDecodeError):
                return None
    return hists


def _labels_valid(labels: dict[str, str], keys_ok: set[str]) -> bool:
    """The models' label rules; `keys_ok` remembers names already matched."""
    if len(labels) > MAX_LABELS:
        return False
    for key, val in labels.items():
        if key not in keys_ok:
            # the models check label names with `re.match`, `$` semantics included
            if not LABEL_KEY_RE.match(key):
                return False
            keys_ok.add(key)
        if len(val) > MAX_LABEL_VALUE_LEN:
            return False
    return True


def _uniform_columns(
    samples: list[_Sample], now: float, retention_seconds: float
) -> list[SeriesSamples] | None:
    """`_plain_columns`' columns of the usual batch — whole scrapes (see below), every sample with
    the same labels, a number value within its unit's range and a number time inside the acceptance
    window — made by list operations instead of a Python step per sample. None for any other batch,
    a fault included: `_plain_columns` then decides, and words the fault."""
    values = [s.value for s in samples]
    times = [s.ts for s in samples]
    earliest = max(now - retention_seconds, 0.0)
    latest = min(now + MAX_FUTURE_SECONDS, MAX_EPOCH_SECONDS)
    # min/max bound every sample: numbers compare totally here (JSON has no NaN; msgspec refuses
    # it and numbers past a float's range), and a None or a text time raises TypeError
    try:
        if not (
            min(values) >= -MAX_ABS_VALUE  # type: ignore[type-var, operator]
            and max(values) <= MAX_ABS_VALUE  # type: ignore[type-var, operator]
            and earliest <= min(times)  # type: ignore[type-var, operator]
            and max(times) <= latest  # type: ignore[type-var, operator]
        ):
            return None
    except TypeError:
        return None
    labels = samples[0].labels
    if [s.labels for s in samples].count(labels) != len(samples):
        return None
    if labels and not _labels_valid(labels, set()):
        return None
    metrics = [s.metric for s in samples]
    # a batch of whole scrapes: every sample's metric is the one `distinct` places before it (each
    # scrape lists the metrics in the same order), so a series' samples are every `distinct`-th
    distinct = list(dict.fromkeys(metrics))
    period = len(distinct)
    if metrics[:period] != distinct or metrics[period:] != metrics[:-period]:
        return None
    ordered = tuple(sorted(labels.items()))
    ts, vs = list(map(float, times)), list(map(float, values))  # type: ignore[arg-type]
    columns = []
    for i, metric in enumerate(distinct):
        series_ts, series_vs = ts[i::period], vs[i::period]
        if not _METRIC.fullmatch(metric) or max(series_vs) > unit_max(metric):
            return None
        columns.append(SeriesSamples(metric, ordered, series_ts, series_vs, _packed(series_ts, series_vs)))
    return columns


def _packed(ts: list[float], values: list[float]) -> bytes | None:
    """`SeriesSamples.packed` of a series whose times ascend without repeats (a scrape's do), else
    None: made here once by two C-speed array copies, which the content key and the SQLite head
    pack then both use instead of formatting the lists again (~5 % of a 2,000-sample request)."""
    if not ts or not all(map(lt, ts, islice(ts, 1, None))):
        return None
    times, numbers = array("d", ts), array("d", values)
    if _BIG_ENDIAN:  # the packed form is little-endian float64 on every machine
        times.byteswap()
        numbers.byteswap()
    return times.tobytes() + numbers.tobytes()


def _plain_columns(
    samples: list[_Sample], now: float, retention_seconds: float
) -> tuple[list[SeriesSamples], bool] | None:
    """A batch without histograms in one pass: its columns per series and whether every sample had a
    time, or None when the model path must decide. A series' shape (metric name, labels) is checked
    once, at its first sample. After the first sample out of the time window or its unit's range,
    the rest are only shape-checked, so a shape fault anywhere still wins (the model path's order)
    and then that first sample's `Invalid` is raised.

    Raises:
        Invalid: as `accepted_time` or the unit check words it, for the first such sample.
    """
    by_sent: dict[tuple[str, tuple[tuple[str, str], ...]], SeriesSamples] = {}
    # per metric the label dict its last sample sent and that sample's series: a batch repeats a
    # metric's label set sample after sample, and comparing two small dicts costs less than building
    # and hashing the tuple key (equal dicts are one series whatever their order, as sorted below)
    last: dict[str, tuple[dict[str, str], SeriesSamples]] = {}
    by_series: dict[tuple[str, Labels], SeriesSamples] = {}
    keys_ok: set[str] = set()
    unit_maxima: dict[str, float] = {}
    earliest = max(now - retention_seconds, 0.0)
    latest = min(now + MAX_FUTURE_SECONDS, MAX_EPOCH_SECONDS)
    timestamped = True
    error: Invalid | None = None
    for i, s in enumerate(samples):
        metric, labels = s.metric, s.labels
        seen = last.get(metric)
        if seen is not None and seen[0] == labels:
            group = seen[1]
        else:
            sent = tuple(labels.items()) if labels else ()
            found = by_sent.get((metric, sent))
            if found is None:
                if not _METRIC.fullmatch(metric) or (labels and not _labels_valid(labels, keys_ok)):
                    return None
                ordered = tuple(sorted(sent))  # one series however its labels were ordered
                found = by_series.get((metric, ordered))
                if found is None:
                    found = by_series[metric, ordered] = SeriesSamples(metric, ordered, [], [])
                by_sent[metric, sent] = found
                unit_maxima[metric] = unit_max(metric)
            group = found
            last[metric] = (labels, group)
        value = s.value
        # no histogram, so a value; the bounds refuse NaN and ±inf, an int beyond them is the models'
        if value is None or not -MAX_ABS_VALUE <= value <= MAX_ABS_VALUE:
            return None
        ts = s.ts
        kind = type(ts)
        if (kind is float or kind is int) and earliest <= ts <= latest:  # type: ignore[operator]
            ts = float(ts)  # type: ignore[arg-type]
        elif kind is int and not 0 <= ts <= MAX_EPOCH_SECONDS:  # type: ignore[operator]
            return None  # out of range for any time; the model path reports it
        elif error is None:
            timestamped = timestamped and ts is not None
            try:
                ts = accepted_time(ts, now=now, retention_seconds=retention_seconds, field=f"samples[{i}].ts")
            except Invalid as exc:
                error = exc
        if error is not None:
            continue
        value = float(value)
        if value > unit_maxima[metric]:
            error = Invalid(unit_range_error(metric, value) or "", field=f"samples[{i}].value")
            continue
        group.ts.append(ts)  # type: ignore[arg-type]
        group.values.append(value)
    if error is not None:
        raise error
    return list(by_series.values()), timestamped
