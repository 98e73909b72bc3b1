"""Default rules notify somebody (issue 11 item 2): every default rule uses the in-app inbox channel
from the first start; `POST /api/channels` with `attach_to_defaults` adds the new channel to them; and
with `VIGIL_PUBLIC_URL` unset, notification links point at the address the server listens on."""

from __future__ import annotations

import json
from typing import Any

import requests

from tests.functional.alerting.conftest import Receiver
from tests.waiting import wait_until
from vigil.alerting.repo import INBOX_CHANNEL_ID, ensure_default_rules
from vigil.config import Config
from vigil.local.client import GatewayClient, json_of
from vigil.local.server import LocalServer
from vigil.wiring import AppContext

DEFAULT_IDS = [
    "default-api-p95",
    "default-check-down",
    "default-check-tls",
    "default-cpu",
    "default-db-p95",
    "default-disk-forecast",
    "default-error-rate",
    "default-host-down",
    "default-memory",
]


def test_every_default_rule_notifies_the_inbox_channel_from_the_first_start(
    ctx: AppContext, admin: GatewayClient
) -> None:
    ensure_default_rules(ctx.store, ctx.config)  # what the first evaluator tick does
    channels = json_of(admin.get("/api/channels"))
    assert [(c["id"], c["type"]) for c in channels] == [(INBOX_CHANNEL_ID, "inbox")]
    rules = json_of(admin.get("/api/alerts/rules"))
    assert {r["id"]: r["channels"] for r in rules} == {rid: [INBOX_CHANNEL_ID] for rid in DEFAULT_IDS}


def test_a_channel_created_with_attach_to_defaults_joins_every_default_rule(admin: GatewayClient) -> None:
    plain = admin.post(
        "/api/channels", json={"type": "webhook", "name": "a", "target": "https://a.example/h"}
    )
    assert plain.status == 201 and "attached_to" not in json_of(plain)
    body = {"type": "slack", "name": "ops", "target": "https://hooks.slack.com/services/T/B/X"}
    created = admin.post("/api/channels", json={**body, "attach_to_defaults": True})
    assert created.status == 201, created.body
    channel = json_of(created)
    assert sorted(channel["attached_to"]) == DEFAULT_IDS
    rules = {r["id"]: r["channels"] for r in json_of(admin.get("/api/alerts/rules"))}
    assert all(rules[rid] == [INBOX_CHANNEL_ID, channel["id"]] for rid in DEFAULT_IDS)


def test_attach_to_defaults_must_be_a_boolean(admin: GatewayClient) -> None:
    body = {"type": "webhook", "name": "a", "target": "https://a.example/h", "attach_to_defaults": "yes"}
    response = admin.post("/api/channels", json=body)
    assert response.status in (400, 422)
    assert "attach_to_defaults" in json_of(response)["error"]["field"]
    assert json_of(admin.get("/api/channels")) == []  # nothing stored


def test_without_public_url_links_use_the_port_the_server_listens_on(
    tmp_path: Any, receiver: Receiver
) -> None:
    config = Config(data_dir=tmp_path / "d", interval_seconds=0.3)  # VIGIL_PUBLIC_URL unset
    with LocalServer(config, port=0, agent=False) as server:
        auth = {"Authorization": f"Bearer {server.admin_token}"}
        hook = {
            "type": "webhook",
            "name": "hook",
            "target": receiver.url("/hook"),
            "attach_to_defaults": True,
        }
        created = requests.post(f"{server.url}/api/channels", json=hook, headers=auth, timeout=5)
        assert created.status_code == 201, created.text
        key = requests.post(f"{server.url}/api/keys", json={"name": "t"}, headers=auth, timeout=5).json()[
            "key"
        ]
        sample = {"host": "web-1", "samples": [{"metric": "system.cpu.utilization", "value": 0.97}]}
        pushed = requests.post(
            f"{server.url}/v1/samples", json=sample, headers={"Authorization": f"Bearer {key}"}, timeout=5
        )
        assert pushed.status_code == 202
        wait_until(lambda: receiver.to("/hook"), timeout=20, what="the firing webhook")
        link = json.loads(receiver.to("/hook")[0].body)["url"]
        assert link.startswith(f"http://127.0.0.1:{server.port}/#/alerts")
        inbox = requests.get(f"{server.url}/api/notifications", headers=auth, timeout=5).json()
        # on a busy machine the server's own API p95 rule may fire too (its self-metrics): every link,
        # whichever alert it is for, must use the port the server listens on
        urls = [item["url"] for item in inbox["items"]]
        assert link in urls
        assert all(url.startswith(f"http://127.0.0.1:{server.port}/#/alerts") for url in urls), urls


def test_the_openapi_document_describes_attach_to_defaults(anonymous: GatewayClient) -> None:
    spec = json_of(anonymous.get("/openapi.json"))
    create = spec["paths"]["/api/channels"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    name = create["$ref"].rsplit("/", 1)[-1]
    field = spec["components"]["schemas"][name]["properties"]["attach_to_defaults"]
    assert field["type"] == "boolean" and "default rule" in field["description"]
