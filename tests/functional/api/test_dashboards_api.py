"""Saved dashboards through the real gateway: admins compose and save, anyone signed in reads, the
stored panels come back exactly as the explorer wrote them."""

from __future__ import annotations

from vigil.local.client import GatewayClient, json_of

PANEL = {
    "metric": "system.cpu.utilization",
    "agg": "p95",
    "host": "web-1",
    "labels": "cpu=total",
    "group_by": "host",
    "range": "7d",
    "type": "area",
}


def test_a_dashboard_is_saved_listed_read_replaced_and_deleted(admin: GatewayClient) -> None:
    created = admin.post("/api/dashboards", json={"name": "Checkout", "panels": [PANEL]})
    assert created.status == 201
    board = json_of(created)
    assert board["id"].startswith("db_") and board["panels"][0] == {
        **PANEL,
        "title": None,
        "from": None,
        "to": None,
    }
    listed = json_of(admin.get("/api/dashboards"))["dashboards"]
    assert [d["name"] for d in listed] == ["Checkout"]
    second = {**PANEL, "metric": "system.memory.utilization", "type": "bar"}
    replaced = admin.request(
        "PUT", f"/api/dashboards/{board['id']}", json={"name": "Checkout v2", "panels": [second, PANEL]}
    )
    assert replaced.status == 200
    again = json_of(admin.get(f"/api/dashboards/{board['id']}"))
    assert again["name"] == "Checkout v2"
    assert [p["metric"] for p in again["panels"]] == ["system.memory.utilization", "system.cpu.utilization"]
    assert again["created_at"] == board["created_at"] and again["version"] == board["version"] + 1
    assert admin.delete(f"/api/dashboards/{board['id']}").status == 204
    assert admin.get(f"/api/dashboards/{board['id']}").status == 404


def test_a_custom_range_keeps_its_from_and_to(admin: GatewayClient) -> None:
    panel = {**PANEL, "range": "custom", "from": "1795700000", "to": "1795703600"}
    board = json_of(admin.post("/api/dashboards", json={"name": "Incident 42", "panels": [panel]}))
    stored = json_of(admin.get(f"/api/dashboards/{board['id']}"))["panels"][0]
    assert (stored["from"], stored["to"]) == ("1795700000", "1795703600")


def test_viewers_read_dashboards_but_cannot_change_them(admin: GatewayClient, viewer: GatewayClient) -> None:
    board = json_of(admin.post("/api/dashboards", json={"name": "Ops", "panels": []}))
    assert viewer.get(f"/api/dashboards/{board['id']}").status == 200
    assert viewer.post("/api/dashboards", json={"name": "Mine"}).status == 403
    assert viewer.request("PUT", f"/api/dashboards/{board['id']}", json={"name": "x"}).status == 403
    assert viewer.delete(f"/api/dashboards/{board['id']}").status == 403


def test_bad_dashboards_get_a_400_naming_the_field(admin: GatewayClient) -> None:
    cases = [
        ({"name": ""}, "name"),
        ({"name": "x", "panels": [{**PANEL, "type": "pie"}]}, "panels[0].type"),
        ({"name": "x", "panels": [{**PANEL, "metric": "bad metric"}]}, "panels[0].metric"),
        ({"name": "x", "panels": [{**PANEL, "colour": "red"}]}, "panels[0].colour"),
        ({"name": "x", "panels": [PANEL] * 25}, "panels"),
    ]
    for body, field in cases:
        response = admin.post("/api/dashboards", json=body)
        assert response.status == 400, (body, response.body)
        assert json_of(response)["error"]["field"] == field
    assert json_of(admin.get("/api/dashboards"))["dashboards"] == []


def test_replacing_or_deleting_a_missing_dashboard_is_404(admin: GatewayClient) -> None:
    assert admin.request("PUT", "/api/dashboards/db_nope", json={"name": "x"}).status == 404
    assert admin.delete("/api/dashboards/db_nope").status == 404
