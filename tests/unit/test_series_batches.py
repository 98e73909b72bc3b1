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
    got = [(b.host, s) for b in batches for s in b.series]
    assert repr(sorted(got, key=lambda x: x[0])) == repr(sorted(kept, key=lambda x: x[0]))
    assert (result.stale_markers, result.not_a_number, result.too_old) == (
        want.stale_markers,
        want.not_a_number,
        want.too_old,
    )


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
