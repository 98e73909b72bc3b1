"""DynamoDB raw chunk format v2 (`chunk_sections`): any batch reads back exactly, through points and
through numpy columns; a one-metric read inflates and parses only that metric's section; v1 bodies
(written before v2) still read exactly; small items stay as small as v1's."""

from __future__ import annotations

import zlib
from collections import Counter
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.contract.test_dynamodb_store import agent_minute
from vigil.adapters.store import chunk_arrays, chunk_sections
from vigil.adapters.store.chunks import decode_points, minute_of, plan_chunks
from vigil.domain.records import Histogram, Point

T0 = 1_764_190_020.0  # a minute boundary


def v1_body(points: list[Point], minute: int) -> bytes:
    """Format v1 as `docs/data-model.md` documents it (what items written before v2 hold)."""
    base = minute * 60
    series: dict[tuple[str, Any], tuple[list[float], list[Any]]] = {}
    for p in points:
        offsets, values = series.setdefault((p.metric, p.labels), ([], []))
        offset = p.ts - base
        offsets.append(int(offset) if offset.is_integer() else offset)
        h = p.histogram
        values.append(
            p.value if h is None else [list(h.bounds), list(h.counts), h.sum, h.count, h.min, h.max]
        )
    body = [[m, [x for pair in lab for x in pair], o, v] for (m, lab), (o, v) in series.items()]
    return zlib.compress(orjson.dumps([1, body]), 9)


def key(p: Point) -> tuple[Any, ...]:
    return (p.metric, p.labels, p.ts)


histograms = st.builds(
    lambda counts, s: Histogram((1.0, 5.0), tuple(counts), s, sum(counts), None, None),
    st.lists(st.integers(0, 50), min_size=3, max_size=3),
    st.floats(0, 1e6),
)
samples = st.lists(
    st.tuples(
        st.sampled_from(["cpu", "mem", "disk.io", "net ü"]),
        st.sampled_from([(), (("dev", "sda"),), (("dev", "sdb"), ("mode", "r"))]),
        st.one_of(st.floats(0, 119.999), st.integers(0, 119).map(float)),  # seconds into the window
        st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.none(), histograms),
    ),
    min_size=1,
    max_size=60,
    unique_by=lambda t: (t[0], t[1], t[2]),
)


def points_of(drawn: list[tuple[Any, ...]], base: float = T0) -> list[Point]:
    return [
        Point(
            "h",
            m,
            labels,
            base + sec,
            None if isinstance(v, Histogram) else v,
            v if isinstance(v, Histogram) else None,
        )
        for m, labels, sec, v in drawn
    ]


@settings(max_examples=200, deadline=None)
@given(drawn=samples, base=st.floats(0, 2e9))
def test_any_batch_reads_back_exactly_from_its_v2_chunks(drawn: list[tuple[Any, ...]], base: float) -> None:
    points = points_of(drawn, base)
    back = [p for c in plan_chunks(points, "k") for p in decode_points("h", c.data, int(c.sk[:10]))]
    assert sorted(back, key=key) == sorted(points, key=key)
    for c in plan_chunks(points, "k"):
        assert chunk_sections.is_v2(c.data)


@settings(max_examples=100, deadline=None)
@given(drawn=samples, base=st.floats(0, 2e9), metric=st.sampled_from(["cpu", "mem", "absent"]))
def test_one_metric_of_a_chunk_reads_back_as_the_points_of_that_metric(
    drawn: list[tuple[Any, ...]], base: float, metric: str
) -> None:
    points = points_of(drawn, base)
    for c in plan_chunks(points, "k"):
        minute = int(c.sk[:10])
        everything = list(decode_points("h", c.data, minute))
        assert list(decode_points("h", c.data, minute, {metric})) == [
            p for p in everything if p.metric == metric
        ]


@settings(max_examples=100, deadline=None)
@given(drawn=samples, base=st.floats(0, 2e9))
def test_v1_bodies_still_read_back_exactly(drawn: list[tuple[Any, ...]], base: float) -> None:
    points = points_of(drawn, base)
    minute = minute_of(min(p.ts for p in points))
    back = list(decode_points("h", v1_body(points, minute), minute))
    assert sorted(back, key=key) == sorted(points, key=key)


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(st.floats(-1e9, 1e9, allow_nan=False), min_size=1, max_size=60),
    gaps=st.lists(
        st.one_of(st.integers(1, 90_000).map(lambda ms: ms / 1000), st.floats(0.001, 90.0)),
        min_size=60,
        max_size=60,
    ),
    v1=st.booleans(),
)
def test_numpy_columns_hold_the_same_floats_as_the_points(
    values: list[float], gaps: list[float], v1: bool
) -> None:
    ts, stamps = T0 + 0.5, []
    for gap in gaps[: len(values)]:
        stamps.append(ts)
        ts += gap
    points = [Point("h", "cpu", (("c", "0"),), t, v) for t, v in zip(stamps, values, strict=False)]
    columns = chunk_arrays.Columns(set())
    expected: list[Point] = []
    for chunk in plan_chunks(points, "k"):  # several items, each a piece of the series
        minute = int(chunk.sk[:10])
        expected += decode_points("h", chunk.data, minute)
        data = v1_body(list(decode_points("h", chunk.data, minute)), minute) if v1 else chunk.data
        chunk_arrays.read_item(columns, "h", data, minute, "cpu")
    got = columns.series["h", (("c", "0"),)].columns()
    assert got is not None
    assert got[0].tolist() == [p.ts for p in expected] == stamps
    assert got[1].tolist() == [p.value for p in expected]


def wide_chunk(metrics: int = 40, per_metric: int = 25) -> tuple[bytes, int, list[Point]]:
    """One item of a 1,000-series host: 40 metrics x 25 series with 3 labels of 40 characters."""
    points = [
        Point(
            "h",
            f"app.metric{m}",
            tuple((f"k{j}", f"{m:04d}{s:04d}{j}".ljust(40, "x")) for j in range(3)),
            T0 + 7,
            float(s),
        )
        for m in range(metrics)
        for s in range(per_metric)
    ]
    (chunk,) = plan_chunks(points, "k")
    return chunk.data, int(chunk.sk[:10]), points


def test_a_one_metric_read_never_touches_another_metrics_frame() -> None:
    data, minute, points = wide_chunk()
    starts = chunk_sections._frame_starts(data)
    assert len(starts) - 1 > 3  # the item is several frames
    (sizes, per_frame), _ = chunk_sections._index(zlib.decompress(data[starts[0] : starts[1]], -15))
    wanted = list(sizes)[per_frame[0] + per_frame[1]]  # the first section of frame 2
    broken = bytearray(data)
    for f in range(1, len(starts) - 1):  # every frame but the index's and the wanted metric's: garbage
        if f != 2:
            broken[starts[f] : starts[f + 1]] = b"\xff" * (starts[f + 1] - starts[f])
    got = list(decode_points("h", bytes(broken), minute, {wanted}))
    assert got == [p for p in points if p.metric == wanted]


def test_a_one_metric_read_parses_one_section_and_inflates_at_most_two_frames(monkeypatch: Any) -> None:
    data, minute, _ = wide_chunk()
    calls: Counter[str] = Counter()
    real_loads, real_decompress = orjson.loads, zlib.decompress

    def loads(raw: Any) -> Any:
        calls["parsed"] += 1
        return real_loads(raw)

    def decompress(raw: Any, *args: Any) -> bytes:
        calls["inflated"] += 1
        return real_decompress(raw, *args)

    monkeypatch.setattr(chunk_sections.orjson, "loads", loads)
    monkeypatch.setattr(chunk_sections.zlib, "decompress", decompress)
    assert len(list(decode_points("h", data, minute, {"app.metric33"}))) == 25
    assert calls == {"parsed": 2, "inflated": 2}  # the index and one section; frame 0 and its frame
    calls.clear()
    assert len(list(decode_points("h", data, minute))) == 1000
    assert calls["parsed"] == 41


def test_an_agent_minute_is_no_more_than_a_few_percent_larger_than_in_v1() -> None:
    points = agent_minute(3)
    (chunk,) = plan_chunks(points, "k")
    v1 = v1_body(points, int(chunk.sk[:10]))
    assert len(chunk.data) <= 1.1 * len(v1)
    assert len(chunk.data) < 1024  # one write unit with the keys (the contract suite checks the item)
