"""The pure parts of the peer benchmark (`bench/peer_data.py`): every system must get identical data
and identical wire bytes, the answers must be judged against what the data says (a mismatch counted,
never hidden), and the table's ratios must say how far Vigil is from the best peer. The peers
themselves never run here (`python -m bench.bench_peers` does that)."""

from __future__ import annotations

import math

import orjson
from hypothesis import given
from hypothesis import strategies as st

from bench import peer_data as pd
from bench.goals import judge
from tests.prom_wire import series
from vigil.adapters.remote_write import decode_write_request

SMALL = pd.Dataset(hosts=5, metrics=3, days=1, end=pd.end_before(1_764_000_000.0))


def test_the_seeded_data_is_the_same_on_every_build_and_differs_between_series() -> None:
    again = pd.Dataset(5, 3, 1, SMALL.end)
    assert SMALL.values(2, 1) == again.values(2, 1)
    assert SMALL.values(2, 1) != SMALL.values(2, 0)
    values = SMALL.values(4, 2)
    assert len(values) == SMALL.points == 1440
    assert all(0 <= v <= 100 and round(v, 1) == v for v in values)


def test_the_data_ends_a_minute_before_an_hour_at_least_five_minutes_ago() -> None:
    now = 1_764_003_899.0
    end = pd.end_before(now)
    assert end % 3600 == 3540 and end <= now - 300
    assert SMALL.start % 3600 == 0 and SMALL.samples == 5 * 3 * 1440


def test_the_fast_sample_encoder_writes_the_same_bytes_as_the_byte_by_byte_encoder() -> None:
    labels = (("__name__", "bench_metric_01"), ("host", "host-002"), ("job", "bench"))
    ts = list(SMALL.timestamps())[:4]
    values = list(SMALL.values(2, 1)[:4])
    fast = pd.series_labels(labels) + pd.SampleEncoder(ts).samples(ts, values)
    assert fast == series(dict(labels), [(t * 1000, v) for t, v in zip(ts, values, strict=True)])


def test_the_remote_write_bodies_carry_every_sample_once_as_vigils_decoder_reads_them() -> None:
    bodies = pd.remote_write_bodies(SMALL)
    assert len(bodies) == pd.SENDERS
    seen: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for mine in bodies:
        for body, n in mine:
            decoded = decode_write_request(body, "application/x-protobuf", "snappy", 1 << 24)
            assert sum(len(s.values) for s in decoded) == n
            for s in decoded:
                key = (s.labels["host"], s.labels["__name__"])
                seen.setdefault(key, []).extend(zip(s.timestamps_ms, s.values, strict=True))
    assert len(seen) == SMALL.hosts * SMALL.metrics
    want = list(zip([t * 1000 for t in SMALL.timestamps()], SMALL.values(3, 2), strict=True))
    assert seen[("host-003", "bench_metric_02")] == want  # in time order, as Prometheus needs


def test_the_json_batches_hold_the_asked_share_of_the_data_in_one_host_each() -> None:
    bodies = pd.json_bodies(SMALL, upto=SMALL.samples // 2)
    batches = [orjson.loads(body) for mine in bodies for body, _ in mine]
    assert sum(len(b["samples"]) for b in batches) == SMALL.samples // 2
    assert all(len({b["host"]}) == 1 and len(b["samples"]) <= pd.JSON_SAMPLES_PER_BATCH for b in batches)


def test_the_expected_fleet_answer_averages_every_sample_of_each_hour() -> None:
    fleet = next(q for q in pd.queries(SMALL) if q.name == "fleet_avg_hourly")
    (series_,) = pd.expected(SMALL, fleet).values()
    assert len(series_) == 24
    hour = [v for h in range(SMALL.hosts) for v in SMALL.values(h, 0)[:60]]
    assert math.isclose(series_[SMALL.start], sum(hour) / len(hour))


def test_a_peer_answer_is_read_as_buckets_one_step_before_its_evaluation_time() -> None:
    q = next(q for q in pd.queries(SMALL) if q.name == "avg_by_host_24h")
    assert q.peer_params()["start"] == str(q.first + 60) and q.vigil_params()["from"] == str(q.first)
    body = orjson.dumps(
        {"data": {"result": [{"metric": {"host": "host-001"}, "values": [[q.first + 60, "1.5"]]}]}}
    )
    assert pd.parse_peer(body, q) == {"host-001": {q.first: 1.5}}


def test_vigil_gaps_are_missing_points_not_zeros() -> None:
    body = orjson.dumps({"timestamps": [0, 60], "series": [{"host": None, "values": [None, 2.0]}]})
    assert pd.parse_vigil(body) == {"": {60: 2.0}}


@given(st.floats(min_value=0, max_value=100), st.floats(min_value=1e-6, max_value=10))
def test_answers_within_float_tolerance_agree_and_others_are_counted(value: float, off: float) -> None:
    want = {"h": {0: value, 60: value}}
    assert pd.compare({"h": {0: value * (1 + 1e-12), 60: value}}, want)["wrong"] == 0
    counts = pd.compare({"h": {0: value + off, 120: 1.0}}, want)
    assert counts == {"points": 2, "wrong": 1, "missing": 1, "extra": 1}
    assert pd.agreement(counts) == "1 wrong, 1 missing, 1 extra of 2 points"


def test_the_table_gives_vigil_against_the_best_peer_and_leaves_absent_peers_empty() -> None:
    figures = {
        "prometheus_one_host_24h_p50_ms": 2.0,
        "victoriametrics_one_host_24h_p50_ms": 1.0,
        "vigil_one_host_24h_p50_ms": 30.0,
        "prometheus_rw_samples_per_s": 700_000,
        "victoriametrics_rw_samples_per_s": 1_500_000,
        "vigil_rw_samples_per_s": 15_000,
        "vigil_json_samples_per_s": 30_000,
        "vigil_bytes_per_sample": 29.0,
    }
    rows = {line.split(" | ")[0][2:]: line for line in pd.table(figures, SMALL).splitlines()}
    assert rows["one host, one metric, 24 h @ 60 s"].endswith("| 30.0 ms | 30x |")
    assert rows["HTTP ingest, remote-write, 4 senders"].endswith("| 15.0 k/s | 100x |")
    assert rows["HTTP ingest, Vigil JSON /v1/samples"].endswith("| 30.0 k/s | 50x |")
    assert rows["bytes on disk per sample"] == "| bytes on disk per sample | — | — | 29.00 | — |"


def test_the_issue_18_goals_are_judged_on_the_figures_the_bench_writes() -> None:
    assert judge("bench_peers", "avg_by_host_24h_vigil_over_vm", 2.0, {}) == ("≤ 2x VictoriaMetrics", "yes")
    assert judge("bench_peers", "one_host_24h_vigil_over_vm", 14.0, {})[1] == "**no**"
    assert judge("bench_peers", "vigil_rw_samples_per_s", 250_000, {})[1] == "yes"
    assert judge("bench_peers", "vigil_bytes_per_sample", 4.01, {})[1] == "**no**"
    assert judge("bench_peers", "vigil_rss_after_queries_mib", None, {})[1] == "?"
