"""Paged list routes through the real gateway and handlers (issues 13.4 and 11.5): `?limit=&cursor=`
on every list, `next_cursor` in the body of object answers (null on the last page), the
`X-Next-Cursor` header on bare-array answers, and a bad cursor answered 400 naming `cursor`."""

from __future__ import annotations

import pytest

from vigil.local.client import GatewayClient, json_of

LISTS = [
    "/api/hosts",
    "/api/errors",
    "/api/keys",
    "/api/notifications",
    "/api/alerts",
    "/api/dashboards",
    "/api/channels",
    "/api/alerts/rules",
    "/api/alerts/silences",
]


def test_hosts_page_through_the_api_keeping_the_hosts_key(
    admin: GatewayClient, ingest: GatewayClient
) -> None:
    for i in range(5):
        sent = ingest.post(
            "/v1/samples", json={"host": f"web-{i}", "samples": [{"metric": "cpu", "value": 1}]}
        )
        assert sent.status == 202, sent.body
    seen, cursor, pages = [], None, 0
    while True:
        answer = json_of(
            admin.get("/api/hosts", params={"limit": "2", **({"cursor": cursor} if cursor else {})})
        )
        seen += [h["host"] for h in answer["hosts"]]
        pages, cursor = pages + 1, answer["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"web-{i}" for i in range(5)] and pages == 3


def test_bare_array_lists_carry_the_next_cursor_in_a_header(admin: GatewayClient) -> None:
    for i in range(3):
        assert admin.post("/api/keys", json={"name": f"k{i}"}).status == 201
    first = admin.get("/api/keys", params={"limit": "2"})
    assert first.status == 200 and len(json_of(first)) == 2
    cursor = first.header("X-Next-Cursor")
    assert cursor
    last = admin.get("/api/keys", params={"limit": "2", "cursor": cursor})
    assert len(json_of(last)) == 1 and last.header("X-Next-Cursor") is None
    paged = [k["name"] for k in json_of(first) + json_of(last)]
    assert paged == [k["name"] for k in json_of(admin.get("/api/keys"))]  # unpaged: all, same order
    assert sorted(paged) == ["k0", "k1", "k2"]


@pytest.mark.parametrize("path", LISTS)
def test_every_list_refuses_a_bad_cursor_naming_the_field(admin: GatewayClient, path: str) -> None:
    assert admin.post("/api/keys", json={"name": "k"}).status == 201  # so the keys list is not empty
    assert admin.post("/api/dashboards", json={"name": "d", "panels": []}).status == 201
    response = admin.get(path, params={"cursor": "%%%not-a-cursor"})
    assert response.status == 400, (path, response.body)
    assert json_of(response)["error"]["field"] == "cursor"
    huge = admin.get(path, params={"limit": "100000"})
    assert huge.status == 400 and json_of(huge)["error"]["field"] == "limit"
