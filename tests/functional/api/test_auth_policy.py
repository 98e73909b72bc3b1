"""Every non-public route refuses anonymous callers; viewers read but never write. Routes are
enumerated from the served OpenAPI document so a new route cannot slip through untested."""

from __future__ import annotations

import re

import orjson
import pytest

from vigil.api.auth import required_role
from vigil.api.meta_routes import openapi_document
from vigil.local.client import GatewayClient, json_of

PUBLIC = {("GET", "/health"), ("HEAD", "/health"), ("GET", "/openapi.json")}


def documented_routes() -> list[tuple[str, str]]:
    import orjson

    doc = orjson.loads(openapi_document())
    routes = []
    for path, ops in doc["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "sample-id", path)
        routes.extend(
            (method.upper(), concrete)
            for method in ops
            if method in ("get", "post", "put", "delete", "patch")
        )
    return sorted(routes)


ROUTES = documented_routes()


def test_the_openapi_document_lists_the_foundation_routes() -> None:
    paths = {p for _, p in ROUTES}
    assert {
        "/v1/samples",
        "/v1/errors",
        "/api/metrics",
        "/api/metrics/series",
        "/api/metrics/catalog",
        "/api/hosts",
        "/api/errors",
        "/api/keys",
        "/health",
    } <= paths


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if r not in PUBLIC], ids=" ".join)
def test_every_non_public_route_answers_401_without_credentials(
    anonymous: GatewayClient, method: str, path: str
) -> None:
    response = anonymous.request(method, path, json={} if method in ("POST", "PUT", "PATCH") else None)
    assert response.status == 401, response.body
    assert json_of(response)["error"]["code"] == "unauthorized"
    assert response.header("www-authenticate") == 'Bearer realm="vigil"'


# A backtest (`POST /api/alerts/rules/test`) changes nothing, so viewers may run it; a live-stream
# ticket (`POST /api/live/ticket`) and "I am watching" (`POST /api/live/watch`) concern what a viewer
# may read anyway; so does a viewer's own browser subscribing to Web Push (`/api/push/subscriptions`);
# ingest routes (remote-write's `/api/v1/write`) take ingest keys, not user tokens (`test_remote_write.py`).
VIEWER_POSTS = ("/api/alerts/rules/test", "/api/live/ticket", "/api/live/watch")
VIEWER_WRITES = ("/api/push/subscriptions",)
WRITES = [
    r
    for r in ROUTES
    if r[1].startswith("/api/")
    and r[0] != "GET"
    and r[1] not in VIEWER_POSTS
    and required_role(*r) != "ingest"
    and not r[1].startswith(VIEWER_WRITES)
]


@pytest.mark.parametrize(("method", "path"), WRITES, ids=" ".join)
def test_a_viewer_cannot_write(viewer: GatewayClient, method: str, path: str) -> None:
    response = viewer.request(method, path, json={})
    assert response.status == 403, response.body


def test_a_viewer_reads_dashboards_data_but_not_keys(viewer: GatewayClient) -> None:
    assert viewer.get("/api/hosts").status == 200
    assert viewer.get("/api/me").status == 200 and json_of(viewer.get("/api/me"))["role"] == "viewer"
    assert viewer.get("/api/keys").status == 403


def test_an_ingest_key_cannot_read_the_api(ingest_key: str, anonymous: GatewayClient) -> None:
    assert anonymous.get("/api/hosts", token=ingest_key).status == 401


def test_a_keys_secret_is_shown_once_and_never_listed(admin: GatewayClient) -> None:
    created = json_of(admin.post("/api/keys", json={"name": "web-2"}))
    assert created["key"].startswith("vk_")
    listing = admin.get("/api/keys").body.decode()
    assert created["key"] not in listing and created["id"] in listing


def test_the_admin_token_is_required_to_mint_keys(viewer: GatewayClient, anonymous: GatewayClient) -> None:
    assert anonymous.post("/api/keys", json={"name": "x"}).status == 401
    assert viewer.post("/api/keys", json={"name": "x"}).status == 403


def test_undeclared_methods_get_405_with_allow(admin: GatewayClient) -> None:
    response = admin.request("PUT", "/api/hosts")
    assert response.status == 405
    assert response.header("allow") == "GET"
    assert json_of(response)["error"]["code"] == "method_not_allowed"


def test_unknown_paths_get_a_json_404(admin: GatewayClient) -> None:
    response = admin.get("/api/nothing-here")
    assert response.status == 404 and json_of(response)["error"]["code"] == "not_found"


def test_allow_lists_the_methods_of_the_literal_route_not_of_a_parameterised_one(
    admin: GatewayClient,
) -> None:
    response = admin.request("OPTIONS", "/api/alerts/rules/test")
    assert response.status == 405
    assert response.header("allow") == "POST"  # not GET/PUT/DELETE of /api/alerts/rules/{rule_id}


def test_a_204_answer_is_documented_without_a_body() -> None:
    document = orjson.loads(openapi_document())
    deleted = document["paths"]["/api/dashboards/{dashboard_id}"]["delete"]["responses"]["204"]
    assert not deleted.get("content")  # no media type: no body promised
