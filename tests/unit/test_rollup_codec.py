"""The rollup block codec gives back the very records it was given (floats bit for bit, None kept
apart from 0.0, sketches and histograms whole), its vectorised `summaries` read equals the records'
own count/sum/min/max, and an hourly rollup of a steady gauge packs small."""

from __future__ import annotations

import math

import cramjam
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from vigil.adapters.store import rollup_codec
from vigil.domain import histograms
from vigil.domain.models import Point
from vigil.domain.rollups import Rollup, coarsen, rollup_points

T0 = 1_764_028_800.0
LABELS = (("cpu", "0"),)
floats = st.floats(allow_nan=False, allow_infinity=False, width=64)
maybe = st.one_of(st.none(), floats)


@st.composite
def records(draw: st.DrawFn) -> list[Rollup]:
    hours = draw(st.lists(st.integers(0, 23), min_size=0, max_size=24, unique=True))
    out = []
    for h in sorted(hours):
        hist = None
        if draw(st.booleans()) and draw(st.booleans()):
            hist = histograms.from_values(draw(st.lists(st.floats(0, 100), min_size=1, max_size=5)))
        out.append(
            Rollup(
                "m",
                "h",
                LABELS,
                "1h",
                T0 + h * 3600.0,
                draw(st.integers(0, 2**40)),
                draw(floats),
                draw(maybe),
                draw(maybe),
                draw(maybe),
                draw(maybe),
                draw(floats),
                draw(floats),
                hist,
                draw(st.dictionaries(st.integers(-3000, 3000), st.integers(1, 2**40), max_size=30)),
            )
        )
    return out


def bits(values: list[float | None]) -> list[object]:
    return [None if v is None else np.float64(v).view(np.int64).item() for v in values]


@given(records())
def test_a_rollup_block_decodes_to_the_very_records_it_was_encoded_from(given_records: list[Rollup]) -> None:
    got = rollup_codec.decode(rollup_codec.encode(given_records), "m", "h", LABELS, "1h")
    assert got == given_records
    for field in ("start", "sum", "min", "max", "last_ts", "last", "increase", "seconds"):
        assert bits([getattr(r, field) for r in got]) == bits([getattr(r, field) for r in given_records])


@given(st.lists(records(), min_size=1, max_size=5))
def test_summaries_of_many_blocks_equal_each_records_count_sum_min_and_max(
    blocks: list[list[Rollup]],
) -> None:
    which, start, count, total, lo, hi = rollup_codec.summaries([rollup_codec.encode(b) for b in blocks])
    flat = [(i, r) for i, b in enumerate(blocks) for r in b]
    assert which.tolist() == [i for i, _ in flat]
    assert bits(start.tolist()) == bits([r.start for _, r in flat])
    assert count.tolist() == [float(r.count) for _, r in flat]
    assert bits(total.tolist()) == bits([r.sum for _, r in flat])
    nan_none = [None if v != v else v for v in lo.tolist()]
    assert bits(nan_none) == bits([r.min for _, r in flat])
    nan_none = [None if v != v else v for v in hi.tolist()]
    assert bits(nan_none) == bits([r.max for _, r in flat])


def test_the_header_says_whether_a_block_holds_histograms() -> None:
    plain = Rollup("m", "h", (), "1h", T0, 3, 6.0, 1.0, 3.0)
    hist = Rollup("m", "h", (), "1h", T0 + 3600, 1, 0.2, 0.2, 0.2, histogram=histograms.from_values([0.2]))
    assert not rollup_codec.has_histograms(rollup_codec.encode([plain]))
    assert rollup_codec.has_histograms(rollup_codec.encode([plain, hist]))


def test_a_days_hourly_rollups_of_a_gauge_pack_under_a_byte_per_sample() -> None:
    rng = np.random.default_rng(1)
    values = np.clip(50 + np.cumsum(rng.uniform(-2, 2, 1440)), 0, 100).round(1)
    points = [Point("h", "m", LABELS, T0 + 60.0 * i, float(v)) for i, v in enumerate(values)]
    hourly = rollup_points(points, "1h")
    body = rollup_codec.encode(hourly)
    assert len(body) < 1440
    assert rollup_codec.decode(body, "m", "h", LABELS, "1h") == hourly
    daily = coarsen(hourly, "1d")
    assert rollup_codec.decode(rollup_codec.encode(daily), "m", "h", LABELS, "1d") == daily
    assert not math.isnan(daily[0].sum)


@given(records())
def test_a_blocks_header_gives_its_payloads_inflated_length(given_records: list[Rollup]) -> None:
    # `summaries` inflates many blocks' frames in one call and cuts the output at these lengths
    body = rollup_codec.encode(given_records)
    inflated = cramjam.zstd.decompress(body[rollup_codec._HEAD.size :])
    assert rollup_codec._payload_size(body) == len(inflated)


def _hourly_block(day: int, hours: int) -> list[Rollup]:
    return [
        Rollup("m", "h", LABELS, "1h", T0 + day * 86400.0 + h * 3600.0, 60, 60.0 * day + h, 0.5, day + 1.0)
        for h in range(hours)
    ]


def test_summaries_of_more_blocks_than_one_call_inflates_and_of_a_block_whose_header_lies() -> None:
    blocks = [_hourly_block(day, 24 if day % 3 else 7) for day in range(1100)]  # three calls' worth
    bodies = [rollup_codec.encode(b) for b in blocks]
    want = [(i, r.start, float(r.count), r.sum, r.min, r.max) for i, b in enumerate(blocks) for r in b]
    # one header saying one more histogram byte than its frame holds: its call's blocks are inflated
    # one by one, and every block still reads as it was written
    head = list(rollup_codec._HEAD.unpack_from(bodies[700]))
    head[6] += 1
    bodies[700] = rollup_codec._HEAD.pack(*head) + bodies[700][rollup_codec._HEAD.size :]
    for given_bodies in (bodies, bodies[:600]):
        got = list(zip(*(a.tolist() for a in rollup_codec.summaries(given_bodies)), strict=True))
        assert got == want[: len(got)] and len(got) == sum(len(b) for b in blocks[: len(given_bodies)])
