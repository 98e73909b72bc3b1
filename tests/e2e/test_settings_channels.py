"""Settings → channels in real Chromium: creating the first external channel offers to have the
default alert rules notify it (they notify only the in-app inbox until then)."""

from __future__ import annotations

from tests.e2e.conftest import Session
from tests.e2e.seeding import Server
from tests.waiting import wait_until


def test_the_first_external_channel_form_offers_to_join_the_default_rules(
    tab: Session, server: Server
) -> None:
    for channel in server.api("GET", "/api/channels").json():
        if channel["type"] != "inbox":
            server.api("DELETE", f"/api/channels/{channel['id']}")
    wait_until(  # the default rules are seeded by the first evaluator tick
        lambda: server.api("GET", "/api/alerts/rules/default-cpu").status_code == 200,
        what="the default rules",
    )
    tab.open("settings")
    page = tab.page
    page.wait_for_selector("#c-attach")
    assert page.is_checked("#c-attach")
    page.select_option("#c-type", "webhook")
    page.fill("#c-name", "E2E ops hook")
    page.fill("#c-target", "https://ops.example/hook")
    page.click("#create-channel")
    page.wait_for_selector("#c-attached")
    (created,) = [c for c in server.api("GET", "/api/channels").json() if c["name"] == "E2E ops hook"]
    try:
        assert created["id"] in server.api("GET", "/api/alerts/rules/default-cpu").json()["channels"]
        page.wait_for_selector("#c-attach", state="detached")  # offered for the first one only
        assert tab.console.errors == []
    finally:  # other browser tests share this server: its rules must not try to reach ops.example
        server.api("DELETE", f"/api/channels/{created['id']}")


def test_saving_the_host_down_rule_in_the_editor_keeps_it_cadence_aware(tab: Session, server: Server) -> None:
    seeded = lambda: server.api("GET", "/api/alerts/rules/default-host-down").status_code == 200  # noqa: E731
    wait_until(seeded, what="the default rules")
    tab.open("alerts?tab=rules")
    page = tab.page
    page.click('#alerts-rules a[href*="rule=default-host-down"]')
    page.wait_for_function(
        "() => document.querySelector('#r-name') && document.querySelector('#r-name').value !== ''"
    )
    page.click("#save-rule")
    page.wait_for_selector("#alerts-rules")
    assert server.api("GET", "/api/alerts/rules/default-host-down").json()["missed_intervals"] == 3
    assert tab.console.errors == []
