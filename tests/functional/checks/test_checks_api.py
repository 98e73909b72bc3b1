"""The checks API through the real gateway and the alerts function's handler, probing real loopback
targets: create/list/read/replace/delete, "run now", validation naming the field, roles."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.check_targets import HttpTarget, closed_port, http_target, tcp_listener
from vigil.domain.checks import REDACTED
from vigil.local.client import GatewayClient, json_of
from vigil.services.check_runner import SYNTHETIC_HOST


@pytest.fixture
def target() -> Iterator[HttpTarget]:
    with http_target() as t:
        yield t


def create(admin: GatewayClient, **body: Any) -> dict[str, Any]:
    response = admin.post("/api/checks", json={"interval": "10s", "timeout": "2s", **body})
    assert response.status == 201, response.body
    return dict(json_of(response))


def test_a_new_check_is_listed_as_pending_until_it_runs(admin: GatewayClient, target: HttpTarget) -> None:
    made = create(admin, name="Shop", url=target.url())
    assert made["id"].startswith("ck_") and made["interval"] == 10.0 and made["public"] is False
    listed = json_of(admin.get("/api/checks"))
    assert [c["name"] for c in listed] == ["Shop"]
    assert listed[0]["status"] == "pending" and listed[0]["last_checked_at"] is None
    assert listed[0]["uptime_24h"] is None and listed[0]["last_error"] is None


def test_running_a_check_now_records_up_duration_and_uptime(admin: GatewayClient, target: HttpTarget) -> None:
    made = create(admin, name="Shop", url=target.url(), keyword="systems go", headers={"X-Probe": "yes"})
    response = admin.post(f"/api/checks/{made['id']}/run")
    assert response.status == 200, response.body
    ran = json_of(response)
    assert ran["status"] == "up" and ran["last_error"] is None
    assert ran["last_duration_ms"] > 0 and ran["uptime_24h"] == 100.0
    assert target.seen_headers[-1]["X-Probe"] == "yes"
    assert ran["last_status_code"] == 200
    phases = ran["last_phases_ms"]
    assert set(phases) == {"dns", "connect", "ttfb", "total"} and phases["total"] == ran["last_duration_ms"]


def test_the_check_runner_is_not_listed_as_a_host(admin: GatewayClient, target: HttpTarget) -> None:
    made = create(admin, name="Shop", url=target.url())
    assert admin.post(f"/api/checks/{made['id']}/run").status == 200
    stored = {"metric": "synthetic.up", "host": SYNTHETIC_HOST}
    series = json_of(admin.get("/api/metrics/series", params=stored))
    assert series["series"], "the run's samples are stored under the runner's host"
    assert SYNTHETIC_HOST not in [h["host"] for h in json_of(admin.get("/api/hosts"))["hosts"]]


def test_the_list_filtered_by_status_holds_only_the_down_checks(
    admin: GatewayClient, target: HttpTarget
) -> None:
    up = create(admin, name="Shop", url=target.url())
    down = create(admin, name="Gone", url=f"tcp://127.0.0.1:{closed_port()}")
    create(admin, name="Never run", url=target.url("/later"))
    for made in (up, down):
        admin.post(f"/api/checks/{made['id']}/run")
    listed = {s: json_of(admin.get("/api/checks", params={"status": s})) for s in ("down", "pending")}
    assert [c["name"] for c in listed["down"]] == ["Gone"]
    assert [c["name"] for c in listed["pending"]] == ["Never run"]
    refused = admin.get("/api/checks", params={"status": "broken"})
    assert refused.status in (400, 422) and "status" in str(refused.body), refused.body


def test_a_missing_keyword_marks_the_check_down_with_the_reason(
    admin: GatewayClient, target: HttpTarget
) -> None:
    made = create(admin, name="Shop", url=target.url(), keyword="checkout")
    ran = json_of(admin.post(f"/api/checks/{made['id']}/run"))
    assert ran["status"] == "down" and ran["uptime_24h"] == 0.0
    assert ran["last_error"] == "keyword 'checkout' not found in the response"


def test_an_unexpected_status_marks_the_check_down(admin: GatewayClient, target: HttpTarget) -> None:
    made = create(admin, name="Api", url=target.url("/status/503"), expect_status=["2xx", "301-302"])
    ran = json_of(admin.post(f"/api/checks/{made['id']}/run"))
    assert ran["status"] == "down" and ran["last_error"] == "status 503, expected 2xx, 301-302"
    accepted = create(admin, name="Maintenance", url=target.url("/status/503"), expect_status=503)
    assert json_of(admin.post(f"/api/checks/{accepted['id']}/run"))["status"] == "up"


def test_tcp_checks_are_up_when_the_port_accepts_and_down_when_it_refuses(admin: GatewayClient) -> None:
    with tcp_listener() as port:
        up = create(admin, name="Redis", url=f"tcp://127.0.0.1:{port}")
        assert json_of(admin.post(f"/api/checks/{up['id']}/run"))["status"] == "up"
    down = create(admin, name="Gone", url=f"tcp://127.0.0.1:{closed_port()}")
    ran = json_of(admin.post(f"/api/checks/{down['id']}/run"))
    assert ran["status"] == "down" and ran["last_error"].startswith("cannot connect to port")


def test_check_runs_enter_the_samples_with_phases_labelled_by_check_name(
    admin: GatewayClient, target: HttpTarget
) -> None:
    made = create(admin, name="Shop", url=target.url())
    admin.post(f"/api/checks/{made['id']}/run")
    series = json_of(
        admin.get(
            "/api/metrics/series",
            params={
                "metric": "synthetic.duration",
                "host": SYNTHETIC_HOST,
                "from": "-5m",
                "group_by": "check,phase",
            },
        )
    )
    phases = {s["labels"]["phase"] for s in series["series"] if s["labels"]["check"] == "Shop"}
    assert phases == {"dns", "connect", "ttfb", "total"}
    up = json_of(
        admin.get(
            "/api/metrics/series", params={"metric": "synthetic.up", "from": "-5m", "group_by": "check"}
        )
    )
    assert [s["labels"] for s in up["series"]] == [{"check": "Shop"}]


def test_secret_headers_are_never_shown_and_survive_an_edit(admin: GatewayClient, target: HttpTarget) -> None:
    made = create(admin, name="Private", url=target.url(), headers={"Authorization": "Bearer s3cret"})
    assert made["headers"] == {"Authorization": REDACTED}
    assert "s3cret" not in admin.get("/api/checks").body.decode()
    edited = admin.request("PUT", f"/api/checks/{made['id']}", json={**_editable(made), "name": "Private 2"})
    assert edited.status == 200, edited.body
    admin.post(f"/api/checks/{made['id']}/run")
    assert target.seen_headers[-1]["Authorization"] == "Bearer s3cret"


def _editable(check: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "url", "method", "interval", "timeout", "expect_status", "keyword", "headers")
    return {k: check[k] for k in (*keys, "tls_expiry_days", "public") if check.get(k) is not None}


def test_replacing_and_deleting_a_check(admin: GatewayClient, target: HttpTarget) -> None:
    made = create(admin, name="Shop", url=target.url())
    replaced = admin.request(
        "PUT", f"/api/checks/{made['id']}", json={"name": "Store", "url": target.url("/x")}
    )
    assert (
        replaced.status == 200
        and json_of(replaced)["name"] == "Store"
        and json_of(replaced)["interval"] == 60.0
    )
    assert admin.delete(f"/api/checks/{made['id']}").status == 204
    assert json_of(admin.get("/api/checks")) == []
    assert admin.get(f"/api/checks/{made['id']}").status == 404
    assert admin.post(f"/api/checks/{made['id']}/run").status == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "a", "url": "ftp://example.com"}, "url"),
        ({"name": "a", "url": "tcp://example.com"}, "url"),
        ({"name": "a", "url": "https://user:pw@example.com"}, "url"),
        ({"name": "a", "url": "https://example.com", "interval": "5s"}, "interval"),
        ({"name": "a", "url": "https://example.com", "interval": "2h"}, "interval"),
        ({"name": "a", "url": "https://example.com", "timeout": "31s"}, "timeout"),
        ({"name": "a", "url": "https://example.com", "interval": "soon"}, "interval"),
        ({"name": "a", "url": "https://example.com", "expect_status": "2yy"}, "expect_status"),
        ({"name": "a", "url": "https://example.com", "expect_status": "299-200"}, "expect_status"),
        ({"name": "a", "url": "https://example.com", "method": "TRACE"}, "method"),
        ({"name": "a", "url": "https://example.com", "headers": {"X-A": "1\r\nX-B: 2"}}, "headers"),
        ({"name": "a", "url": "https://example.com", "tls_expiry_days": -1}, "tls_expiry_days"),
        ({"name": "a", "url": "https://example.com", "public": "yes"}, "public"),
        ({"name": "a", "url": "tcp://example.com:6379", "keyword": "PONG"}, "keyword"),
        ({"name": "", "url": "https://example.com"}, "name"),
        ({"url": "https://example.com"}, "name"),
        ({"name": "a", "url": "https://example.com", "colour": "red"}, "colour"),
    ],
)
def test_bad_check_bodies_are_refused_naming_the_field(
    admin: GatewayClient, body: dict[str, Any], field: str
) -> None:
    response = admin.post("/api/checks", json=body)
    assert response.status in (400, 422), response.body
    assert field in (json_of(response)["error"].get("field") or ""), response.body
    assert json_of(admin.get("/api/checks")) == []


def test_check_names_are_unique(admin: GatewayClient, target: HttpTarget) -> None:
    create(admin, name="Shop", url=target.url())
    response = admin.post("/api/checks", json={"name": "Shop", "url": target.url("/b")})
    assert response.status == 409 and json_of(response)["error"]["field"] == "name"


def test_viewers_read_checks_but_cannot_change_or_run_them(
    admin: GatewayClient, viewer: GatewayClient, anonymous: GatewayClient, target: HttpTarget
) -> None:
    made = create(admin, name="Shop", url=target.url())
    assert viewer.get("/api/checks").status == 200
    assert viewer.post("/api/checks", json={"name": "x", "url": target.url()}).status == 403
    assert viewer.post(f"/api/checks/{made['id']}/run").status == 403
    assert viewer.delete(f"/api/checks/{made['id']}").status == 403
    assert anonymous.get("/api/checks").status == 401


def test_instance_metadata_is_refused_even_in_local_mode(admin: GatewayClient) -> None:
    made = create(admin, name="Metadata", url="http://169.254.169.254/latest/meta-data/")
    ran = json_of(admin.post(f"/api/checks/{made['id']}/run"))
    assert ran["status"] == "down" and "instance-metadata" in ran["last_error"]
