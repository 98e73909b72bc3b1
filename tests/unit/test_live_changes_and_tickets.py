"""The pieces of pushed updates that need no server: the coalesced "what changed" message stays
bounded and says exactly which names were touched; stream tickets are single-purpose, short-lived,
single-use and cannot be edited."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.api.live_tickets import TICKET_SECONDS, TicketVerifier, issue, ticket_key
from vigil.domain.changes import MAX_NAMES, Pending
from vigil.domain.errors import Unauthorized

names = st.text(alphabet="abcdefgh.-1", min_size=1, max_size=6)


@given(st.lists(st.tuples(names, st.lists(names, max_size=5)), max_size=40))
def test_a_pending_change_names_every_touched_host_and_metric_or_says_any_past_the_cap(
    batches: list[tuple[str, list[str]]],
) -> None:
    pending = Pending()
    for host, metrics in batches:
        pending.add_samples(host, metrics)
    message = json.loads(pending.message())
    hosts = {h for h, _ in batches}
    metrics = {m for _, ms in batches for m in ms}
    assert message["hosts"] == (sorted(hosts) if len(hosts) <= MAX_NAMES else None)
    assert message["metrics"] == (sorted(metrics) if len(metrics) <= MAX_NAMES else None)
    assert message["alerts"] is False
    assert bool(pending) == bool(batches)


def test_past_the_cap_a_list_stays_any_however_many_names_follow() -> None:
    pending = Pending()
    for i in range(MAX_NAMES + 1):
        pending.add_samples(f"h{i}", ["m"])
    pending.add_samples("one-more", ["m"])
    assert json.loads(pending.message())["hosts"] is None and pending.hosts is None


def test_an_alert_change_alone_is_worth_a_message() -> None:
    pending = Pending()
    assert not pending
    pending.add_alerts()
    assert pending and json.loads(pending.message()) == {"hosts": [], "metrics": [], "alerts": True}


KEY = ticket_key("admin-token")


def test_a_ticket_opens_once_for_its_role_and_then_never_again() -> None:
    verifier = TicketVerifier(KEY)
    ticket = issue(KEY, "viewer", now=1000.0)
    assert verifier.redeem(ticket, now=1001.0) == "viewer"
    with pytest.raises(Unauthorized, match="already used"):
        verifier.redeem(ticket, now=1002.0)


def test_a_ticket_expires_after_its_lifetime() -> None:
    ticket = issue(KEY, "viewer", now=1000.0)
    with pytest.raises(Unauthorized, match="expired"):
        TicketVerifier(KEY).redeem(ticket, now=1000.0 + TICKET_SECONDS + 1)


def test_an_edited_ticket_or_another_tokens_ticket_is_refused() -> None:
    ticket = issue(KEY, "viewer", now=1000.0)
    expiry, nonce, _role, mac = ticket.split(".")
    promoted = f"{expiry}.{nonce}.admin.{mac}"
    later = f"{int(expiry) + 3600}.{nonce}.viewer.{mac}"
    for bad in (promoted, later, "", "x.y.z", issue(ticket_key("other-token"), "viewer", now=1000.0)):
        with pytest.raises(Unauthorized):
            TicketVerifier(KEY).redeem(bad, now=1001.0)


def test_the_signing_key_never_equals_or_contains_the_admin_token() -> None:
    assert b"admin-token" not in KEY and len(KEY) == 32
