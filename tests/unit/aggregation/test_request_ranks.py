"""The worst hosts beside the API p95 and error-rate cards (`domain.request_ranks`): each host's value is the
fleet card's value of a fleet of that host alone, worst first, top N; no requests, no rank; services
stored under their own name are called services."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.domain import histograms
from vigil.domain.models import Point
from vigil.domain.request_ranks import rank_request_kpis
from vigil.domain.snapshot import build_snapshot

NOW = 1_764_190_000.0
METRIC = "http.server.request.duration"


def latency(host: str, values: list[float], status: str | None, **labels: str) -> Point:
    pairs = dict(labels)
    if status is not None:
        pairs["http.response.status_code"] = status
    return Point(host, METRIC, tuple(sorted(pairs.items())), NOW - 5, None, histograms.from_values(values))


host_traffic = st.lists(
    st.tuples(
        st.sampled_from(["200", "404", "500", "503"]),
        st.lists(st.floats(min_value=0.001, max_value=9.0), min_size=0, max_size=6),
    ),
    min_size=1,
    max_size=3,
)


@settings(deadline=None, max_examples=60)
@given(st.dictionaries(st.sampled_from([f"h{i}" for i in range(9)]), host_traffic, min_size=1))
def test_each_hosts_value_is_the_fleet_card_of_that_host_alone_worst_first_and_bounded(
    fleet: dict[str, list[tuple[str, list[float]]]],
) -> None:
    points = [latency(h, values, status) for h, parts in fleet.items() for status, values in parts]
    ranks = rank_request_kpis(points, 60.0, top=3)
    for key in ("response_time_p95", "error_rate"):
        alone = {}
        for host in fleet:
            card = build_snapshot([p for p in points if p.host == host], [], NOW)["application"][key]
            if card is not None:
                alone[host] = round(card["value"], 4)
        want = sorted(alone.items(), key=lambda hv: (-hv[1], hv[0]))[:3]
        got = [(h["host"], h["value"]) for h in ranks[key]["hosts"]]
        # hosts whose values tie at 4 decimals may come in either order (ranked by the unrounded value)
        assert [v for _, v in got] == [v for _, v in want]
        assert all(alone[h] == v for h, v in got) and len({h for h, _ in got}) == len(got)
        assert ranks[key]["count"] == len(alone)


def test_a_host_without_requests_in_the_window_is_not_ranked_as_a_best_zero() -> None:
    points = [
        latency("busy-1", [0.1, 0.2], "200"),
        latency("empty-1", [], "200"),  # a histogram with no observations
        Point("cpu-only", "system.cpu.utilization", (), NOW - 5, 0.4),
    ]
    ranks = rank_request_kpis(points, 60.0)
    assert [h["host"] for h in ranks["error_rate"]["hosts"]] == ["busy-1"]
    assert ranks["error_rate"]["hosts"][0]["value"] == 0.0
    assert ranks["response_time_p95"]["count"] == 1


def test_span_derived_requests_count_their_errors_per_host() -> None:
    span_labels = (("http.route", "/pay"), ("service", "shop"))
    points = [
        Point("web-1", METRIC, span_labels, NOW - 5, None, histograms.from_values([0.1] * 10)),
        Point("web-1", "http.server.error.count", span_labels, NOW - 5, 4.0),
        Point("web-2", METRIC, span_labels, NOW - 5, None, histograms.from_values([0.1] * 10)),
    ]
    ranks = rank_request_kpis(points, 60.0)
    assert ranks["error_rate"]["hosts"] == [{"host": "web-1", "value": 40.0}, {"host": "web-2", "value": 0.0}]


def test_otlp_services_stored_under_their_name_are_ranked_as_services() -> None:
    services = [latency("shop", [0.3], "200", service="shop"), latency("cart", [0.9], "500", service="cart")]
    assert rank_request_kpis(services, 60.0)["response_time_p95"]["ranked"] == "services"
    mixed = [*services, latency("web-1", [0.2], "200", service="shop")]
    assert rank_request_kpis(mixed, 60.0)["error_rate"]["ranked"] == "hosts and services"
    assert rank_request_kpis([latency("web-1", [0.2], "200")], 60.0)["error_rate"]["ranked"] == "hosts"
    assert rank_request_kpis([], 60.0)["error_rate"] == {
        "unit": "%",
        "ranked": "hosts",
        "count": 0,
        "hosts": [],
    }
