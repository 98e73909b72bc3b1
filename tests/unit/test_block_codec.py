"""The columnar block codec round-trips every float bit for bit (-0.0, infinities, NaN payloads,
subnormals, ±1e300), timestamps exactly (whole milliseconds or not), and packs a steady gauge small;
`bucket_cells` sums samples per (series, bucket) as a brute-force loop does."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from vigil.adapters.store import columns
from vigil.adapters.store.arrays import bucket_cells

T0 = 1_764_007_200.0
any_float = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True, width=64)
times_st = st.one_of(
    st.lists(st.integers(0, 7_200_000), min_size=1, max_size=200, unique=True).map(
        lambda ms: [T0 + m / 1000 for m in sorted(ms)]
    ),
    st.lists(st.floats(0, 7200, allow_nan=False), min_size=1, max_size=200, unique=True).map(
        lambda s: [T0 + x for x in sorted(s)]
    ),
)


def bits(a: np.ndarray) -> list[int]:
    return np.asarray(a, dtype=np.float64).view(np.int64).tolist()


@given(times=times_st, data=st.data())
def test_a_block_decodes_to_the_very_same_floats_it_was_encoded_from(
    times: list[float], data: st.DataObject
) -> None:
    values = data.draw(
        st.one_of(
            st.lists(any_float, min_size=len(times), max_size=len(times)),
            st.lists(  # decimal-looking values, the codec's compact mode (and the edge of it)
                st.integers(-(10**15), 10**15).map(lambda i: i / 10 ** (abs(i) % 10)),
                min_size=len(times),
                max_size=len(times),
            ),
        )
    )
    ts, vs = np.array(times), np.array(values, dtype=np.float64)
    got_ts, got_vs = columns.decode(columns.encode(ts, vs))
    assert bits(got_ts) == bits(ts)
    assert bits(got_vs) == bits(vs)


def test_special_floats_survive_the_codec() -> None:
    specials = [-0.0, 0.0, math.inf, -math.inf, math.nan, 1e300, -1e300, 5e-324, 0.1, 1 / 3]
    ts = np.arange(len(specials)) * 60.0 + T0
    _, got = columns.decode(columns.encode(ts, np.array(specials)))
    assert bits(got) == bits(np.array(specials))


def test_a_steady_gauge_packs_under_a_byte_and_a_half_per_sample() -> None:
    ts = T0 + np.arange(120) * 60.0
    values = np.array([((13 + 7 * i) % 100) / 100 for i in range(120)])
    assert len(columns.encode(ts, values)) / 120 < 1.5


@given(
    samples=st.lists(
        st.tuples(st.integers(0, 2), st.floats(0, 3600, allow_nan=False), st.floats(-1e300, 1e300)),
        max_size=60,
        unique_by=lambda s: (s[0], s[1]),
    ),
    step=st.sampled_from([1.0, 60.0, 300.0]),
)
def test_bucket_cells_sum_each_series_bucket_as_a_loop_does(
    samples: list[tuple[int, float, float]], step: float
) -> None:
    samples.sort(key=lambda s: (s[0], s[1]))
    expected: dict[tuple[int, float], list[float]] = {}
    for sid, dt, v in samples:
        expected.setdefault((sid, math.floor((T0 + dt) / step) * step), []).append(v)
    series = [("a", ()), ("b", ()), ("c", ())]
    ids = [10, 5, 7]
    sid = np.array([ids[s] for s, _, _ in samples], dtype=np.int64)
    ts = np.array([T0 + dt for _, dt, _ in samples])
    vs = np.array([v for *_, v in samples])
    cells = bucket_cells(series, ids, sid, ts, vs, step)
    got = {
        (i, t): (c, s, lo, hi)
        for i, t, c, s, lo, hi in zip(
            cells.index.tolist(),
            cells.start.tolist(),
            cells.count.tolist(),
            cells.total.tolist(),
            cells.lo.tolist(),
            cells.hi.tolist(),
            strict=True,
        )
    }
    want = {}
    for (s, t), vals in expected.items():
        total = 0.0
        for v in vals:
            total += v
        want[(s, t)] = (float(len(vals)), total, min(vals), max(vals))
    assert got == want


def test_a_format_1_block_written_by_the_previous_release_still_decodes() -> None:
    body = bytes.fromhex(  # columns.encode of the previous release (one zstd frame, int64 deltas)
        "010000020300000028b52ffd2030450100f800c505b79a0100006025fb4865fefffff4010096004b001f"
        "ffffffffffffff031000030f7e8501"
    )
    ts, values = columns.decode(body)
    assert ts.tolist() == [1764007200.0, 1764007260.0, 1764007320.5]
    assert values.tolist() == [1.5, 2.25, 0.0]  # format 1 lost the sign of -0.0 (fixed in 2)


def test_a_regular_one_decimal_gauge_is_read_without_decompressing_at_a_byte_a_sample() -> None:
    rng = np.random.default_rng(3)
    ts = T0 + np.arange(120) * 60.0
    values = np.clip(50 + np.cumsum(rng.uniform(-2, 2, 120)), 0, 100).round(1)
    body = columns.encode(ts, values)
    assert len(body) <= 120 + 16 + 8 + 9  # header, first time and interval, first value
    got_ts, got_values = columns.decode(body)
    assert bits(got_ts) == bits(ts) and bits(got_values) == bits(values)


steady_block = st.tuples(
    st.integers(0, 3),  # which start
    st.sampled_from([60.0, 15.0]),
    st.integers(0, 3),  # decimal places
    st.integers(-1000, 1000),
    st.sampled_from([1, 40, 1000, 10**6]),  # step size of the walk: int8 .. int32 deltas
    st.integers(0, 2**32),
)


def steady(spec: tuple[int, float, int, int, int, int], n: int) -> bytes:
    """A regular, decimal block (the shape `decode_many` reads together), seeded."""
    which, interval, places, level, size, seed = spec
    walk = level + np.cumsum(np.random.default_rng(seed).integers(-size, size + 1, n))
    return columns.encode(T0 + which * 7200 + np.arange(n) * interval, walk / 10.0**places)


@given(
    specs=st.lists(steady_block, min_size=0, max_size=12),
    n=st.sampled_from([2, 3, 120]),
    others=st.lists(st.tuples(times_st, st.integers(0, 2**32)), max_size=3),
    data=st.data(),
)
def test_blocks_decoded_together_are_the_very_floats_each_decodes_to(
    specs: list[tuple[int, float, int, int, int, int]],
    n: int,
    others: list[tuple[list[float], int]],
    data: st.DataObject,
) -> None:
    bodies = [steady(spec, n) for spec in specs]
    for times, seed in others:  # irregular, XOR-mode or compressed blocks among them
        values = np.random.default_rng(seed).standard_normal(len(times))
        bodies.insert(data.draw(st.integers(0, len(bodies))), columns.encode(np.array(times), values))
    counts, ts, vs = columns.decode_many(bodies)
    one_by_one = [columns.decode(b) for b in bodies]
    assert counts.tolist() == [len(t) for t, _ in one_by_one]
    assert bits(ts) == bits(np.concatenate([t for t, _ in one_by_one] or [np.empty(0)]))
    assert bits(vs) == bits(np.concatenate([v for _, v in one_by_one] or [np.empty(0)]))
