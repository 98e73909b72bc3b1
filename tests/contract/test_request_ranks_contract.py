"""The overview's worst hosts beside the API p95 and error-rate cards (`domain.request_ranks`), on SqliteStore
and DynamoStore (moto): one hot host ranked first, each value equal to what the series API answers with
`group_by=host` for the card's window, hosts without requests in it not ranked — read live (a small
fleet) and from the fleet job's snapshot (more than 20 hosts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vigil.config import Config
from vigil.domain import histograms
from vigil.domain.models import Point
from vigil.services.fleet import run_fleet, settled_until
from vigil.services.queries import series, snapshot_window
from vigil.services.snapshot import LIVE_SNAPSHOT_HOSTS, snapshot

METRIC = "http.server.request.duration"
NOW = 1_764_190_020.0  # a minute boundary: the card's window is one 60 s series bucket
ROUTE = ("http.route", "/api")


def requests(host: str, ts: float, values: list[float], status: str) -> Point:
    labels = (("http.response.status_code", status), ROUTE)
    return Point(host, METRIC, labels, ts, None, histograms.from_values(values))


def cpu(host: str, ts: float) -> Point:
    return Point(host, "system.cpu.utilization", (), ts, 0.5)


def traffic(host: str, ts: float, *, slow: bool, errors: int) -> list[Point]:
    """20 requests (fast, or slow on the hot host) of which `errors` answered 500."""
    latency = 1.8 if slow else 0.04
    return [
        requests(host, ts, [latency] * (20 - errors), "200"),
        requests(host, ts + 1, [latency] * errors, "500") if errors else cpu(host, ts + 1),
    ]


def per_host(
    store: Any, config: Config, now: float, a: float, b: float, agg: str, labels: str | None = None
) -> dict[str, float]:
    """The series API's one-bucket answer per host over [a, b] (one 60 s bucket)."""
    body = series(
        store,
        config,
        now,
        metric=METRIC,
        host=None,
        labels=labels,
        start=str(a),
        end=str(b),
        agg=agg,
        step="60",
        group_by="host",
    )
    out = {}
    for s in body["series"]:
        found = [v for v in s["values"] if v is not None]
        assert len(found) <= 1, s
        if found:
            out[s["host"]] = found[0]
    return out


def expected(
    store: Any, config: Config, now: float, a: float, b: float
) -> tuple[dict[str, float], dict[str, float]]:
    p95 = {h: round(v * 1000, 4) for h, v in per_host(store, config, now, a, b, "p95").items()}
    total = per_host(store, config, now, a, b, "count")
    errors = per_host(store, config, now, a, b, "count", "http.response.status_code=500")
    rate = {h: round(100 * errors.get(h, 0.0) / n, 4) for h, n in total.items() if n}
    return p95, rate


def ranked(body: dict[str, Any], key: str) -> dict[str, float]:
    return {h["host"]: h["value"] for h in body["by_host"][key]["hosts"]}


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(data_dir=tmp_path / "data", interval_seconds=10.0)


def test_the_hot_host_ranks_first_by_p95_and_error_rate_with_the_series_apis_values(
    store: Any, config: Config
) -> None:
    window = snapshot_window(config)
    assert window == 60.0
    for i, host in enumerate(("web-1", "web-2", "hot-1")):
        hot = host == "hot-1"
        points = traffic(host, NOW - 40, slow=hot, errors=8 if hot else i)
        points += traffic(host, NOW - 100, slow=False, errors=0)  # the previous window: not ranked
        store.put_samples(host, points, f"{host}-b", NOW)
    # requests only in the window before, and a host with CPU but no requests: neither is ranked
    store.put_samples("idle-1", traffic("idle-1", NOW - 100, slow=True, errors=20), "idle", NOW)
    store.put_samples("quiet-1", [cpu("quiet-1", NOW - 10)], "quiet", NOW)

    body = snapshot(store, config, NOW)

    p95, rate = expected(store, config, NOW, NOW - window + 0.001, NOW)
    assert list(ranked(body, "response_time_p95")) == ["hot-1", "web-1", "web-2"]
    assert ranked(body, "response_time_p95") == p95
    assert list(ranked(body, "error_rate")) == ["hot-1", "web-2", "web-1"]
    assert ranked(body, "error_rate") == rate == {"hot-1": 40.0, "web-2": 5.0, "web-1": 0.0}
    p95_entry = body["by_host"]["response_time_p95"]
    assert (p95_entry["unit"], p95_entry["ranked"], p95_entry["count"]) == ("ms", "hosts", 3)
    assert body["by_host"]["error_rate"]["unit"] == "%"
    assert "cpu" in body["by_host"]  # the host-level KPIs stay beside them


def test_a_large_fleet_ranks_its_top_five_from_the_fleet_jobs_snapshot_window(
    store: Any, config: Config
) -> None:
    end = settled_until(NOW)  # the newest minute the fleet job builds: its snapshot window ends there
    hosts = [f"app-{i:02d}" for i in range(LIVE_SNAPSHOT_HOSTS + 1)]
    for i, host in enumerate(hosts):
        store.put_samples(host, traffic(host, end - 30, slow=host == "app-07", errors=i % 4), host, NOW)
    run_fleet(store, NOW, retention_seconds=config.retention_seconds, snapshot_window=60.0)

    body = snapshot(store, config, NOW + 5)

    p95, rate = expected(store, config, NOW, end - 60, end - 0.001)
    top = body["by_host"]["response_time_p95"]
    assert top["count"] == len(hosts) and len(top["hosts"]) == 5
    assert top["hosts"][0] == {"host": "app-07", "value": p95["app-07"]}
    assert ranked(body, "response_time_p95").items() <= p95.items()
    errors = body["by_host"]["error_rate"]
    want = sorted(rate.items(), key=lambda hv: (-hv[1], hv[0]))[:5]
    assert [(h["host"], h["value"]) for h in errors["hosts"]] == want
