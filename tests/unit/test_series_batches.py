"""Batches as columns (`domain.series_batch`, remote-write's `batches_of`): the whole-series check
keeps, skips and refuses exactly what the sample-by-sample check does, and the content key tells
apart any two batches whose samples differ (property tests)."""

from __future__ import annotations

import math
import struct
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.adapters.remote_write import STALE_NAN_BITS, WireSeries, columns_of
from vigil.config import Config
from vigil.domain.catalog import unit_max
from vigil.domain.errors import Invalid
from vigil.domain.series_batch import SeriesSamples, content_key, points_of
from vigil.services.remote_write import RemoteWriteResult, _checked_samples, batches_of

NOW = 1_764_007_200.0
CONFIG = Config(retention_days=7)
STALE = struct.unpack("<d", struct.pack("<Q", STALE_NAN_BITS))[0]
TIMES_MS = st.sampled_from(
    [int((NOW + d) * 1000) for d in (-8 * 86400, -86400, -60.5, 0, 599, 601)]  # too old ... too new
)
VALUES = st.sampled_from([0.0, -0.0, 0.5, 1.5, 2.5, 1e301, -1e301, math.nan, math.inf, STALE])
METRICS = st.sampled_from(["cpu", "system.cpu.utilization"])  # a ratio: 2.5 is out of its range
WIRE = st.lists(
    st.tuples(
        METRICS,
        st.sampled_from(["a", "b"]),
        st.lists(st.tuples(TIMES_MS, VALUES), min_size=1, max_size=4),
    ),
    max_size=5,
)


def wire(sent: list[Any]) -> list[WireSeries]:
    return [
        WireSeries({"__name__": m, "host": h}, [t for t, _ in s], [v for _, v in s], 0) for m, h, s in sent
    ]


def one_by_one(series: list[WireSeries]) -> tuple[list[Any], RemoteWriteResult]:
    """What `batches_of` keeps when every series takes the sample-by-sample path."""
    result = RemoteWriteResult()
    kept = []
    for i, s in enumerate(series):
        metric, host = s.labels["__name__"], s.labels["host"]
        highest = min(unit_max(metric), 1e300)
        got = _checked_samples(s, f"timeseries[{i}]", metric, (), highest, NOW - 7 * 86400, NOW, result)
        if got.ts:
            kept.append((host, got))
    return kept, result


def outcome(fn: Any, *args: Any) -> Any:
    try:
        return ("ok", fn(*args))
    except Invalid as exc:
        return ("refused", str(exc), exc.field)


@given(WIRE)
def test_the_whole_series_check_keeps_skips_and_refuses_as_the_sample_by_sample_check(
    sent: list[Any],
) -> None:
    series = wire(sent)
    fast = outcome(batches_of, columns_of(series), CONFIG, NOW)
    slow = outcome(one_by_one, series)
    if fast[0] == "refused" or slow[0] == "refused":
        assert fast == slow
        return
    batches, result = fast[1]
    kept, want = slow[1]
    got = [(b.host, sent_as(s)) for b in batches for s in b.series]
    expected = [(host, sent_as(s)) for host, s in kept]
    assert repr(sorted(got, key=lambda x: x[0])) == repr(sorted(expected, key=lambda x: x[0]))
    assert (result.stale_markers, result.not_a_number, result.too_old) == (
        want.stale_markers,
        want.not_a_number,
        want.too_old,
    )


def sent_as(s: SeriesSamples) -> tuple[Any, ...]:
    """A series' samples as sent (its `packed` bytes are the same samples, checked below)."""
    return (s.metric, s.labels, s.ts, s.values)


@given(WIRE)
def test_a_series_whose_times_ascend_carries_its_packed_body_and_keeps_its_content_key(
    sent: list[Any],
) -> None:
    """`batches_of` packs every series of the request at once: a series' `packed`, when given, is its
    times then values as float64 and only given when they ascend without repeats (what the head pack
    and the content key are made of; a series that went sample by sample has none), and the batch's
    content key is what it would be from the lists."""
    fast = outcome(batches_of, columns_of(wire(sent)), CONFIG, NOW)
    if fast[0] == "refused":
        return
    for batch in fast[1][0]:
        for s in batch.series:
            ascending = all(a < b for a, b in zip(s.ts, s.ts[1:], strict=False))
            lists = struct.pack(f"<{2 * len(s.ts)}d", *s.ts, *s.values)
            assert s.packed is None or (ascending and s.packed == lists)
        unpacked = [SeriesSamples(s.metric, s.labels, s.ts, s.values) for s in batch.series]
        assert content_key(batch.host, batch.series) == content_key(batch.host, unpacked)


def test_a_request_of_ascending_series_packs_each_of_them() -> None:
    """The common case (every encoder sends a series' samples in time order) takes the packed path:
    nothing to fall back on."""
    t = int(NOW * 1000)
    sent = [
        WireSeries({"__name__": "cpu", "host": "a"}, [t - 2000, t - 1000, t], [1.0, 2.0, 3.0], 0),
        WireSeries({"__name__": "mem", "host": "b"}, [t - 5000], [-0.0], 0),
        WireSeries({"__name__": "io", "host": "a"}, [t, t - 1000], [4.0, 5.0], 0),  # out of order
    ]
    batches, _ = batches_of(columns_of(sent), CONFIG, NOW)
    packed = {s.metric: s.packed for b in batches for s in b.series}
    assert packed == {
        "cpu": struct.pack("<6d", NOW - 2, NOW - 1, NOW, 1.0, 2.0, 3.0),
        "mem": struct.pack("<2d", NOW - 5, -0.0),
        "io": None,
    }


SAMPLES = st.lists(
    st.tuples(st.sampled_from([1.0, 2.0, 3.5]), st.sampled_from([0.0, -0.0, 1.0, 2.5])), max_size=4
)


@given(a=SAMPLES, b=SAMPLES)
def test_two_batches_share_a_content_key_only_when_their_samples_are_the_same(
    a: list[Any], b: list[Any]
) -> None:
    def key(samples: list[Any]) -> str:
        return content_key(
            "h", [SeriesSamples("m", (("k", "v"),), [t for t, _ in samples], [v for _, v in samples])]
        )

    assert (key(a) == key(b)) == (repr(a) == repr(b))


def test_a_content_key_is_the_one_earlier_releases_stored_so_a_replay_after_an_upgrade_is_a_duplicate() -> (
    None
):
    """Pinned to the key main made at 2026-12-04 (f76a42e), twice over (the second from the remembered
    per-series part of the key)."""
    series = [
        SeriesSamples("cpu", (("core", "0"), ("job", "node")), [1764007200.0, 1764007260.0], [0.5, -0.0]),
        SeriesSamples("mem", (), [1764007200.0], [1e300], struct.pack("<2d", 1764007200.0, 1e300)),
        SeriesSamples("cpu", (("core", "0"), ("job", "node")), [1764007260.0, 1764007200.0], [2.0, 3.0]),
    ]
    for _ in range(2):
        assert content_key("web-1", series) == "sha:ed4d096c60c7c18a204a2b5872d2b41a"


def test_a_series_batch_reads_as_points_in_the_order_sent() -> None:
    s = SeriesSamples("m", (("k", "v"),), [2.0, 1.0], [5.0, 6.0])
    assert [(p.host, p.metric, p.labels, p.ts, p.value) for p in points_of("h", [s])] == [
        ("h", "m", (("k", "v"),), 2.0, 5.0),
        ("h", "m", (("k", "v"),), 1.0, 6.0),
    ]


@pytest.mark.parametrize("label", ["host", "instance"])
def test_a_series_named_again_in_a_request_maps_to_the_same_identity(label: str) -> None:
    sent = [WireSeries({"__name__": "cpu", label: "web-1"}, [int(NOW * 1000)], [1.0], 0)] * 2
    batches, _ = batches_of(columns_of(sent), CONFIG, NOW)
    assert [(b.host, [(s.metric, s.labels) for s in b.series]) for b in batches] == [
        ("web-1", [("cpu", ()), ("cpu", ())])
    ]
