"""The fast path of `POST /v1/samples` (`services.fast_samples`) against the model path it stands in
for (`ingest_routes.model_checked_samples`: the body parsed, validated by `SampleBatch`, checked
against time and units): over generated batches — valid and broken in every rule the models hold —
the fast path never accepts a body the models refuse, stores exactly the models' points (as columns
per series for plain values), refuses with
the models' message and field when it refuses itself, and takes every batch the models accept."""

from __future__ import annotations

import json
import math
import struct
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.adapters.store.sqlite import SqliteStore
from vigil.api.ingest_routes import checked_samples, model_checked_samples
from vigil.domain.errors import Invalid
from vigil.domain.series_batch import HostBatch, SeriesSamples
from vigil.services.fast_samples import fast_checked_batch
from vigil.services.ingest import CheckedBatch

NOW = 1_764_190_000.0
RETENTION = 7 * 86400.0


def mostly(valid: st.SearchStrategy[Any], invalid: st.SearchStrategy[Any], odds: int = 12) -> Any:
    """`valid` nearly always, `invalid` one time in `odds`: most batches carry at most one fault, so
    both accepted batches and every single rule's refusal are drawn often. (The fault is keyed to a
    middle number: hypothesis favours the ends of a range.)"""
    return st.integers(0, odds - 1).flatmap(lambda n: invalid if n == odds // 2 else valid)


def rarely(draw: st.DrawFn, odds: int) -> bool:
    """True one time in `odds` (a middle number, as in `mostly`)."""
    return draw(st.integers(0, odds - 1)) == odds // 2


numbers = st.one_of(
    st.floats(min_value=-1e300, max_value=1e300, width=64),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([1e300, -1e300, 0, -0.0, 1e-320, 0.5, 1.5, 2]),
)
# json.dumps writes NaN and ±Infinity as such: JSON has no such numbers, both paths refuse the body
bad_numbers = st.sampled_from(
    [1.0000000000000002e300, -1e301, 10**301, math.nan, math.inf, -math.inf, True, False, "1", [], {}, "NaN"]
)
hosts = mostly(
    st.sampled_from(["web-1", "a", "h.example.com:9100", "x" * 128]),
    st.sampled_from(["x" * 129, "", "-h", "h\n", "h h", 5, None]),
)
metrics = mostly(
    st.sampled_from(["m.x", "system.cpu.utilization", "job:req:rate5m", "a/b", "m" * 200]),
    st.sampled_from(["m" * 201, "1bad", "ok\n", "", 7, None]),
)
label_values = st.one_of(st.sampled_from(["", "v", "v" * 256, "a,b=c|d"]), st.text(max_size=8))
labels = mostly(
    st.dictionaries(st.sampled_from(["cpu", "k_1", "a.b-c", "_x", "x" * 64]), label_values, max_size=10),
    st.one_of(
        st.dictionaries(st.sampled_from(["1bad", "k\n", "k y", "é", "x" * 65]), label_values, min_size=1),
        st.dictionaries(st.text(min_size=1, max_size=3), st.just("v"), min_size=11, max_size=12),
        st.sampled_from([None, [], {"k": 1}, {"k": None}, {"k": "v" * 257}]),
    ),
)
timestamps = mostly(
    st.one_of(
        st.sampled_from([NOW - 5, NOW, NOW + 599, NOW - RETENTION + 1, "2025-11-26T20:40:00Z", "now", "-5m"]),
        st.floats(min_value=NOW - RETENTION + 1, max_value=NOW + 599),
        st.integers(min_value=int(NOW - RETENTION + 1), max_value=int(NOW + 599)),
    ),
    st.sampled_from(
        [
            NOW + 601,
            NOW - RETENTION - 1,
            -1,
            10**20,
            10**400,
            math.inf,
            "now+20m",
            "garbage",
            "",
            True,
            [],
            None,
        ]
    ),
)
histograms = mostly(
    st.sampled_from(
        [
            {"bounds": [1, 2], "counts": [1, 2, 3], "sum": 4.5, "count": 6},
            {"bounds": [], "counts": [4], "sum": 1, "count": 4, "min": 0.1, "max": 0.9},
            {"bounds": [0.5, 1e300], "counts": [0, 0, 1], "sum": -1e300, "count": 1, "min": None},
        ]
    ),
    st.sampled_from(
        [
            {"bounds": [2, 1], "counts": [1, 2, 3], "sum": 4.5, "count": 6},
            {"bounds": [1, 2], "counts": [1, 2, 3], "sum": 4.5, "count": 5},
            {"bounds": [1, 2], "counts": [1, -2, 7], "sum": 4.5, "count": 6},
            {"bounds": [1, 2], "counts": [1, 2], "sum": 4.5, "count": 3},
            {"bounds": [1, 2], "counts": [1, 2, 3], "sum": 1e301, "count": 6},
            {"bounds": [1, 2], "counts": [1, 2, 3], "sum": 4.5, "count": 6, "extra": 1},
            {"bounds": [1, 2], "counts": [1.0, 2, 3], "sum": 4.5, "count": 6},
            {"bounds": [1], "counts": [2**64, 0], "sum": 1, "count": 2**64},
            [],
            "h",
        ]
    ),
)


@st.composite
def samples(draw: st.DrawFn) -> Any:
    if rarely(draw, 60):
        return draw(st.sampled_from([1, "s", None, []]))
    sample: dict[str, Any] = {}
    if not rarely(draw, 40):
        sample["metric"] = draw(metrics)
    shape = draw(st.integers(0, 15))  # a value; sometimes a histogram; rarely both, neither or nulls
    if shape >= 3:
        sample["value"] = draw(mostly(numbers, bad_numbers))
    elif shape == 2:
        sample["histogram"] = draw(histograms)
        if draw(st.booleans()):
            sample["value"] = None
    elif shape == 1:
        sample["value"], sample["histogram"] = draw(numbers), draw(histograms)
    elif draw(st.booleans()):
        sample["value"] = sample["histogram"] = None
    for name, strategy in (("ts", timestamps), ("labels", labels)):
        if draw(st.integers(0, 3)):
            sample[name] = draw(strategy)
    if rarely(draw, 60):
        sample["unknown"] = 1
    return sample


@st.composite
def bodies(draw: st.DrawFn) -> str:
    if rarely(draw, 60):
        return draw(st.sampled_from(["", "null", "[]", '"x"', "{}", "1", "[" * 40 + "]" * 40]))
    body: dict[str, Any] = {}
    if not rarely(draw, 60):
        body["host"] = draw(hosts)
    if not rarely(draw, 60):
        body["samples"] = draw(
            mostly(st.lists(samples(), min_size=1, max_size=8), st.sampled_from([[], {}, None, "s"]), 40)
        )
    if draw(st.booleans()):
        body["batch_id"] = draw(
            mostly(
                st.sampled_from(["b-1", "a:b.c_d", "x" * 128, None]),
                st.sampled_from(["x" * 129, "", "a b", "b\n", 3]),
            )
        )
    if draw(st.booleans()):
        body["push_interval"] = draw(
            mostly(
                st.sampled_from([10, 0.5, 86400, None]), st.sampled_from([86400.5, 0, -1, True, "5", 10**400])
            )
        )
    if rarely(draw, 60):
        body["unknown"] = True
    text = json.dumps(body, ensure_ascii=draw(st.booleans()))
    if rarely(draw, 60):  # not JSON any more
        text = text[: draw(st.integers(0, max(0, len(text) - 1)))]
    return text


def stored_form(batch: CheckedBatch) -> tuple[Any, ...]:
    """What a batch stores: its fields and its points series by series, each series' in the order
    sent (the order that decides which of two samples at one time wins); the fast path hands plain
    values over as columns per series."""
    points = sorted(batch.all_points(), key=lambda p: (p.metric, p.labels))  # stable: order kept
    return (batch.host, batch.batch_id, batch.push_interval, batch.timestamped, repr(points))


def outcome(check: Any, text: str) -> tuple[Any, ...]:
    try:
        result = check(text, NOW, RETENTION)
    except Invalid as exc:
        return ("invalid", exc.message, exc.field)
    return ("fallback",) if result is None else ("ok", stored_form(result))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies())
def test_fast_path_accepts_and_refuses_exactly_what_the_models_do(text: str) -> None:
    fast = outcome(fast_checked_batch, text)
    model = outcome(model_checked_samples, text)
    if fast[0] != "fallback":
        assert fast == model  # the same samples stored, or the same refusal (message and field)
    if model[0] == "ok":
        assert fast == model, "a batch the models accept must not need the model path"
    assert outcome(checked_samples, text) == model  # what the route answers


def test_fast_path_keeps_every_field_of_a_valid_batch() -> None:
    body = {
        "host": "web-1",
        "batch_id": "b-7",
        "push_interval": 10,
        "samples": [
            {"metric": "m.a", "value": 3, "ts": NOW - 1, "labels": {"z": "1", "a": "2"}},
            {"metric": "m.h", "histogram": {"bounds": [1], "counts": [2, 3], "sum": 9, "count": 5}},
        ],
    }
    fast = fast_checked_batch(json.dumps(body), NOW, RETENTION)
    assert isinstance(fast, CheckedBatch)
    assert stored_form(fast) == stored_form(model_checked_samples(json.dumps(body), NOW, RETENTION))
    assert (fast.host, fast.batch_id, fast.push_interval, fast.timestamped) == ("web-1", "b-7", 10.0, False)
    assert fast.points[0].labels == (("a", "2"), ("z", "1"))
    assert fast.points[1].ts == NOW and fast.points[1].histogram is not None


def test_fast_path_hands_plain_values_over_as_one_column_pair_per_series() -> None:
    samples = [
        {"metric": "m.a", "value": v, "ts": int(NOW) - 60 + i, "labels": {"z": "1", "a": "2"}}
        for i, v in enumerate([1, 2.5, 3])
    ] + [{"metric": "m.b", "value": 7, "ts": NOW - 1}]
    fast = fast_checked_batch(json.dumps({"host": "web-1", "samples": samples}), NOW, RETENTION)
    assert fast is not None and fast.points == []
    assert fast.series == [
        SeriesSamples("m.a", (("a", "2"), ("z", "1")), [NOW - 60, NOW - 59, NOW - 58], [1.0, 2.5, 3.0]),
        SeriesSamples("m.b", (), [NOW - 1], [7.0]),
    ]
    assert fast.timestamped


def test_a_metrics_label_sets_interleaved_and_reordered_each_keep_their_series_in_the_order_sent() -> None:
    sets = [{"a": "1", "b": "2"}, {"a": "1"}, {"b": "2", "a": "1"}, {}, {"a": "1"}, {"a": "1", "b": "2"}]
    samples = [{"metric": "m", "value": i, "ts": NOW - 60 + i, "labels": s} for i, s in enumerate(sets)]
    fast = fast_checked_batch(json.dumps({"host": "web-1", "samples": samples}), NOW, RETENTION)
    assert fast is not None
    assert fast.series == [
        SeriesSamples("m", (("a", "1"), ("b", "2")), [NOW - 60, NOW - 58, NOW - 55], [0.0, 2.0, 5.0]),
        SeriesSamples("m", (("a", "1"),), [NOW - 59, NOW - 56], [1.0, 4.0]),
        SeriesSamples("m", (), [NOW - 57], [3.0]),
    ]
    bad = [*samples, {"metric": "m", "value": 1, "ts": NOW, "labels": {"a": "1", "b b": "2"}}]
    assert fast_checked_batch(json.dumps({"host": "web-1", "samples": bad}), NOW, RETENTION) is None


@st.composite
def scrapes(draw: st.DrawFn) -> str:
    """Whole scrapes (the same metrics in the same order, one label set), now and then with a fault
    that `_uniform_columns` must leave to `_plain_columns`: a metric out of step, another label set,
    a value past its unit's range or the bounds, a time out of the window or not a number."""
    names = draw(st.lists(st.sampled_from(["m.a", "m.b", "x.utilization", "m.c"]), min_size=1, unique=True))
    count = draw(st.integers(1, 6))
    labels = draw(st.sampled_from([{}, {"job": "j"}, {"z": "1", "a": "2"}]))
    samples: list[dict[str, Any]] = [
        {
            "metric": m,
            "value": draw(st.floats(-1e3, 1e3) | st.integers(-5, 5)),
            "ts": int(NOW) - 600 + 60 * k,
            "labels": labels,
        }
        for k in range(count)
        for m in names
    ]
    if len(samples) > 1 and rarely(draw, 3):
        samples.pop(draw(st.integers(0, len(samples) - 2)))  # out of step
    if rarely(draw, 2):
        sample = samples[draw(st.integers(0, len(samples) - 1))]
        field, value = draw(
            st.sampled_from(
                [
                    ("labels", {"job": "k"}),
                    ("labels", {"bad key": "1"}),
                    ("value", 1.5),  # past a utilization's 1.0 (any other metric takes it)
                    ("value", 1e301),
                    ("value", None),
                    ("ts", NOW + 3600),
                    ("ts", NOW - 30 * 86400),
                    ("ts", "2025-11-26T12:00:00Z"),
                    ("ts", None),
                    ("metric", "1bad"),
                ]
            )
        )
        sample[field] = value
    return json.dumps({"host": "web-1", "samples": samples})


@settings(max_examples=300, deadline=None)
@given(scrapes())
def test_whole_scrapes_are_columned_by_slices_exactly_as_sample_by_sample(text: str) -> None:
    """`_uniform_columns` (slices of whole scrapes) answers what `_plain_columns` does, or leaves
    the batch to it; a batch of whole scrapes without a fault never is."""
    from vigil.services import fast_samples

    samples = fast_samples._DECODER.decode(text).samples
    uniform = fast_samples._uniform_columns(samples, NOW, RETENTION)
    try:
        plain = fast_samples._plain_columns(samples, NOW, RETENTION)
    except Invalid:
        plain = None
    if uniform is not None:
        # the same columns, and each series' packed run is what the head would pack of its lists
        assert plain == ([replace(s, packed=None) for s in uniform], True)
        assert all(s.packed == struct.pack(f"<{2 * len(s.ts)}d", *s.ts, *s.values) for s in uniform)
    metrics = [s.metric for s in samples]
    period = len(set(metrics))
    steady = metrics[period:] == metrics[:-period] and len({json.dumps(s.labels) for s in samples}) == 1
    if plain is not None and steady and all(type(s.ts) in (int, float) for s in samples):
        assert uniform is not None


def test_a_scrape_batch_with_a_repeated_time_is_unpacked_and_its_last_value_wins(
    tmp_path: Any,
) -> None:
    """Two scrapes at the same second: their series' times do not ascend, so the batch carries no
    packed run (the head orders and dedupes the lists itself) and the later value is kept."""
    from vigil.services import fast_samples

    ts = int(NOW) - 60
    body = json.dumps(
        {"host": "web-1", "samples": [{"metric": "m.a", "value": v, "ts": ts} for v in (1.0, 2.0)]}
    )
    (series,) = fast_samples._uniform_columns(fast_samples._DECODER.decode(body).samples, NOW, RETENTION)
    assert (series.ts, series.values, series.packed) == ([ts, ts], [1.0, 2.0], None)
    store = SqliteStore(tmp_path / "vigil.sqlite3", RETENTION)
    store.put_series_batches([HostBatch("web-1", [series])], NOW)
    assert [(p.ts, p.value) for p in store.query_points("m.a", ts - 1, ts + 1, now=NOW)] == [(ts, 2.0)]
