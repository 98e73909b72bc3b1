"""The public status page: served without credentials by a real local server over HTTP, built only
from checks marked public (never a URL, host, metric name, error text or private check), with 90
daily bars and incidents from alert history; and in AWS written to the site bucket (moto S3) when
something changed or an hour passed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws

from tests.check_targets import HttpTarget, http_target
from tests.conftest import ADMIN_TOKEN, FrozenClock
from vigil.alerting.entry import evaluate_now
from vigil.config import Config
from vigil.domain.checks import CheckIn, RunResult
from vigil.domain.status import build_status
from vigil.local.server import LocalServer
from vigil.services import checks
from vigil.services.check_results import record_results
from vigil.services.status_page import mark_stale, publish_if_due, render_html
from vigil.wiring import AppContext


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    config = Config(data_dir=tmp_path / "data", admin_token=ADMIN_TOKEN, interval_seconds=10.0)
    with LocalServer(config, port=0, agent=False) as running:
        yield running


@pytest.fixture
def target() -> Iterator[HttpTarget]:
    with http_target() as t:
        yield t


def api(server: LocalServer, method: str, path: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    response = requests.request(method, f"{server.url}{path}", json=body, headers=headers, timeout=30)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def test_the_status_page_shows_public_checks_and_an_incident_to_anyone(
    server: LocalServer, target: HttpTarget
) -> None:
    public = {"name": "Web shop", "url": target.url("/hidden-path-xyz"), "interval": "1h", "public": True}
    shop = api(server, "POST", "/api/checks", {**public, "headers": {"X-Tenant": "acme-internal"}})
    api(server, "POST", "/api/checks", {"name": "secret-backend", "url": target.url(), "interval": "1h"})
    api(server, "POST", f"/api/checks/{shop['id']}/run")
    target.stop()
    for _ in range(2):
        assert api(server, "POST", f"/api/checks/{shop['id']}/run")["status"] == "down"
    evaluate_now(server.ctx)  # the evaluator's tick, as the scheduler runs it
    during = requests.get(f"{server.url}/status.json", timeout=10).json()
    assert during["status"] == "outage" and during["components"][0]["status"] == "down"
    assert during["incidents"][0]["component"] == "Web shop" and during["incidents"][0]["resolved_at"] is None
    target.start()
    api(server, "POST", f"/api/checks/{shop['id']}/run")
    evaluate_now(server.ctx)

    page = requests.get(f"{server.url}/status", timeout=10)  # no credentials
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "<script" not in page.text and "Web shop" in page.text and "was down from" in page.text
    status = requests.get(f"{server.url}/status.json", timeout=10).json()
    assert status["status"] == "operational"
    [component] = status["components"]
    assert component["name"] == "Web shop" and component["status"] == "up" and len(component["days"]) == 90
    assert component["days"][-1]["uptime"] == 50.0 and component["days"][0]["uptime"] is None
    [incident] = status["incidents"]
    assert incident["component"] == "Web shop" and incident["resolved_at"] is not None
    assert incident["duration_s"] >= 0

    everything = page.text + json.dumps(status)
    for secret in (
        "secret-backend",  # not public
        "127.0.0.1",
        "hidden-path-xyz",
        "acme-internal",
        "vigil-checks",
        "synthetic.",
        "default-check-down",
        "cannot connect",
        shop["id"],
    ):
        assert secret not in everything, secret


def test_the_status_page_needs_no_checks_to_answer(server: LocalServer) -> None:
    page = requests.get(f"{server.url}/status", timeout=10)
    assert page.status_code == 200 and "No components are published yet." in page.text
    head = requests.head(f"{server.url}/status.json", timeout=10)
    assert head.status_code == 200 and head.content == b""


def test_daily_bars_count_each_utc_day_and_drop_days_past_ninety() -> None:
    day = 86400
    now = 100 * day + 3600.0
    state = {"status": "up", "days": {"100": [9, 10], "99": [10, 10], "10": [0, 5], "11": [1, 4]}}
    status = build_status([("A", state)], [], now)
    bars = status["components"][0]["days"]
    assert len(bars) == 90 and bars[-1]["uptime"] == 90.0 and bars[-2]["uptime"] == 100.0
    assert bars[0]["date"] == "1970-01-12" and bars[0]["uptime"] == 25.0  # day 11 is the oldest shown
    assert status["components"][0]["uptime"] == round(100 * 20 / 24, 3)  # day 10 is past 90 days


def test_incidents_pair_firing_and_resolve_of_public_checks_newest_first() -> None:
    def t(check: str, to: str, at: float, rule: str = "default-check-down") -> dict[str, Any]:
        return {"rule_id": rule, "group": {"check": check}, "to": to, "at": at}

    history = [
        t("A", "firing", 1000.0),
        t("A", "resolved", 1600.0),
        t("B", "firing", 2000.0),  # still down
        t("A", "firing", 3000.0, rule="default-check-tls"),  # not an outage
        t("Private", "firing", 2500.0),
    ]
    status = build_status([("A", None), ("B", None)], history, 5000.0)
    assert [(i["component"], i["duration_s"]) for i in status["incidents"]] == [("B", None), ("A", 600)]
    assert status["components"][0]["status"] == "pending"


def test_component_names_are_escaped_in_the_page() -> None:
    page = render_html(build_status([("<b>x</b>", {"status": "up"})], [], 0.0)).decode()
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


@pytest.fixture
def bucket(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="vigil-site")
        yield s3


def test_in_aws_the_page_is_written_to_the_site_bucket_on_change_or_hourly(
    bucket: Any, config: Config, clock: FrozenClock
) -> None:
    ctx = AppContext(config.with_(status_bucket="vigil-site"), clock=clock)
    check = CheckIn(name="Web shop", url="https://shop.example/", public=True)
    made = checks.create(ctx.store, ctx.config, check, clock.now())
    record_results(
        ctx.store, ctx.config, [(check, RunResult(made.id, clock.now(), True, {"total": 0.1}))], clock.now()
    )
    assert publish_if_due(ctx, clock.now(), changed=False) == "published"  # never published before
    page = bucket.get_object(Bucket="vigil-site", Key="status")
    assert page["ContentType"].startswith("text/html") and page["CacheControl"] == "public, max-age=60"
    assert b"Web shop" in page["Body"].read()
    data = json.loads(bucket.get_object(Bucket="vigil-site", Key="status.json")["Body"].read())
    assert data["components"][0]["status"] == "up"

    clock.advance(60)
    assert publish_if_due(ctx, clock.now(), changed=False) == "fresh"
    assert publish_if_due(ctx, clock.now(), changed=True) == "unchanged"  # same content: no write
    record_results(
        ctx.store,
        ctx.config,
        [(check, RunResult(made.id, clock.now(), False, {"total": 0.1}, "x"))],
        clock.now(),
    )
    assert publish_if_due(ctx, clock.now(), changed=True) == "published"
    clock.advance(3600)
    assert publish_if_due(ctx, clock.now(), changed=False) == "published"  # hourly
    mark_stale(ctx.store)  # what editing a public check does
    assert publish_if_due(ctx, clock.now(), changed=False) == "published"
    ctx.store.close()


def test_without_a_bucket_nothing_is_published(ctx: AppContext) -> None:
    assert publish_if_due(ctx, ctx.clock.now(), changed=True) == "local"
