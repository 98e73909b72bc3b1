"""The Web Push API through the real gateway: the VAPID public key (created once, kept 0600 in the data
dir, never the private half), subscribing and unsubscribing, and a 4xx naming the field for bad input."""

from __future__ import annotations

import base64
import os
import stat
from typing import Any

import pytest

from tests.webpush_receiver import Browser
from vigil.alerting import push
from vigil.domain.push import SUBSCRIPTION_KIND, subscription_id
from vigil.local.client import GatewayClient, json_of
from vigil.wiring import AppContext

ENDPOINT = "http://127.0.0.1:9/push/device-token-0123456789"


@pytest.fixture(autouse=True)
def fresh_key_cache() -> None:
    push._keys.clear()


def browser_json(**changes: Any) -> dict[str, Any]:
    return {**Browser().subscription(ENDPOINT), **changes}


def test_the_vapid_public_key_is_created_once_and_its_private_half_stays_in_a_0600_file(
    viewer: GatewayClient, ctx: AppContext
) -> None:
    response = viewer.get("/api/push/vapid-public-key")
    assert response.status == 200, response.body
    key = json_of(response)["public_key"]
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert len(raw) == 65 and raw[0] == 4  # an uncompressed P-256 point: applicationServerKey
    path = ctx.config.data_dir / push.VAPID_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "PRIVATE KEY" in path.read_text() and b"PRIVATE" not in response.body
    push._keys.clear()  # a restarted process reads the same pair back
    assert json_of(viewer.get("/api/push/vapid-public-key"))["public_key"] == key


def test_a_viewer_subscribes_a_browser_and_gets_no_secret_back(
    viewer: GatewayClient, ctx: AppContext
) -> None:
    sent = browser_json()
    response = viewer.post("/api/push/subscriptions", json=sent)
    assert response.status == 201, response.body
    out = json_of(response)
    assert out["id"] == subscription_id(ENDPOINT)
    assert (out["push_service"], out["severities"]) == ("http://127.0.0.1:9", ["critical"])
    for secret in (sent["keys"]["p256dh"], sent["keys"]["auth"], "device-token"):
        assert secret.encode() not in response.body
    stored = ctx.store.get_doc(SUBSCRIPTION_KIND, out["id"])
    assert stored is not None and stored["auth"] == sent["keys"]["auth"]


def test_the_same_browser_subscribing_again_replaces_its_subscription(viewer: GatewayClient) -> None:
    first = json_of(viewer.post("/api/push/subscriptions", json=browser_json()))
    again = viewer.post("/api/push/subscriptions", json=browser_json(severities=["warning", "critical"]))
    assert again.status == 201 and json_of(again)["id"] == first["id"]
    assert json_of(again)["severities"] == ["critical", "warning"]


def test_unsubscribing_answers_204_then_404(viewer: GatewayClient, ctx: AppContext) -> None:
    sub_id = json_of(viewer.post("/api/push/subscriptions", json=browser_json()))["id"]
    response = viewer.delete(f"/api/push/subscriptions/{sub_id}")
    assert response.status == 204 and response.body == b""
    assert ctx.store.get_doc(SUBSCRIPTION_KIND, sub_id) is None
    assert viewer.delete(f"/api/push/subscriptions/{sub_id}").status == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint": "not a url"}, "endpoint"),
        ({"endpoint": "ftp://push.example.com/x"}, "endpoint"),
        ({"endpoint": "https://user:pw@push.example.com/x"}, "endpoint"),
        ({"keys": None}, "keys"),
        ({"keys": {"auth": "AAAAAAAAAAAAAAAAAAAAAA"}}, "keys.p256dh"),
        ({"keys": {"p256dh": "BAAA", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}, "keys.p256dh"),
        ({"keys": {"p256dh": Browser().p256dh, "auth": "c2hvcnQ"}}, "keys.auth"),
        ({"keys": {"p256dh": Browser().p256dh, "auth": "not base64!"}}, "keys.auth"),
        ({"severities": []}, "severities"),
        ({"severities": ["panic"]}, "severities[0]"),
    ],
)
def test_a_malformed_subscription_is_refused_naming_the_field(
    viewer: GatewayClient, change: dict[str, Any], field: str
) -> None:
    response = viewer.post("/api/push/subscriptions", json=browser_json(**change))
    assert response.status == 400, response.body
    assert json_of(response)["error"]["field"] == field


def test_an_endpoint_on_the_metadata_address_is_refused_by_the_ssrf_guard(
    viewer: GatewayClient, ctx: AppContext
) -> None:
    response = viewer.post(
        "/api/push/subscriptions", json=browser_json(endpoint="http://169.254.169.254/latest/meta-data/")
    )
    assert response.status == 400, response.body
    error = json_of(response)["error"]
    assert error["field"] == "endpoint" and "instance-metadata" in error["message"]
    assert ctx.store.list_docs(SUBSCRIPTION_KIND) == []


def test_push_routes_need_credentials(anonymous: GatewayClient) -> None:
    assert anonymous.get("/api/push/vapid-public-key").status == 401
    assert anonymous.post("/api/push/subscriptions", json=browser_json()).status == 401
    assert anonymous.delete(f"/api/push/subscriptions/{subscription_id(ENDPOINT)}").status == 401


def test_an_unknown_subscription_id_shape_is_a_400(viewer: GatewayClient) -> None:
    response = viewer.delete("/api/push/subscriptions/not-an-id")
    assert response.status == 400 and json_of(response)["error"]["field"] == "subscription_id"


def test_processes_creating_the_key_at_once_all_end_up_with_one_pair(ctx: AppContext) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:  # each call is a first start: no cache, no file yet
        keys = list(pool.map(lambda _: push._load_file(ctx.config), range(8)))
    assert len({k.public_key for k in keys}) == 1
    assert sorted(p.name for p in ctx.config.data_dir.iterdir() if "vapid" in p.name) == [push.VAPID_FILE]
