"""Store contract for paged lists (issues 13.4 and 11.5): every list walked page by page with a small
`limit` on both stores returns each item exactly once, in order, and says `next_cursor: None` on the
last page; hosts are paged by the store itself (on DynamoDB a page Queries only its own hosts); a
cursor of another list, or garbage, is `Invalid` naming `cursor`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from vigil.alerting import admin, repo
from vigil.config import Config
from vigil.domain.dashboards import DashboardIn
from vigil.domain.errors import Invalid
from vigil.domain.models import ErrorEvent, KeyCreate, Point
from vigil.domain.paging import encode_cursor
from vigil.services import dashboards, error_queries, keys, listings

T0 = 1_764_000_000.0


def walk(fetch: Callable[[str | None], tuple[list[Any], str | None]]) -> list[list[Any]]:
    """Every page, following `next_cursor` until it is None."""
    pages, cursor = [], None
    while True:
        items, cursor = fetch(cursor)
        pages.append(items)
        if cursor is None:
            return pages
        assert len(pages) < 50, "the cursor never ran out"


def flat(pages: list[list[Any]]) -> list[Any]:
    return [item for page in pages for item in page]


def test_hosts_are_paged_by_name_by_the_store(store: Any) -> None:
    names = [f"web-{i:02d}" for i in range(7)]
    for name in reversed(names):
        store.put_samples(name, [Point(name, "cpu", (), T0, 0.5)], None, T0)

    def fetch(cursor: str | None) -> tuple[list[Any], str | None]:
        answer = listings.hosts(store, Config(), T0, limit=3, cursor=cursor)
        return [h["host"] for h in answer["hosts"]], answer["next_cursor"]

    pages = walk(fetch)
    assert pages == [names[:3], names[3:6], names[6:]]
    assert [h.host for h in store.list_hosts(after="web-04", limit=2)] == ["web-05", "web-06"]
    answer = listings.hosts(store, Config(), T0, limit=7)
    assert len(answer["hosts"]) == 7 and answer["next_cursor"] is None


def test_error_groups_are_paged_newest_first(store: Any) -> None:
    store.record_errors(
        [ErrorEvent(f"fp-{i}", "ValueError", f"bad {i}", None, "api", "web-1", T0 + i % 3) for i in range(8)]
    )

    def fetch(cursor: str | None) -> tuple[list[Any], str | None]:
        answer = error_queries.error_groups(store, T0 + 10, since="-1h", limit=3, cursor=cursor)
        return [e["fingerprint"] for e in answer["errors"]], answer["next_cursor"]

    everything = flat(walk(fetch))
    whole = error_queries.error_groups(store, T0 + 10, since="-1h", limit=100)
    assert everything == [e["fingerprint"] for e in whole["errors"]] and len(set(everything)) == 8
    assert whole["next_cursor"] is None


def test_keys_dashboards_and_channels_are_paged(store: Any) -> None:
    for i in range(5):
        keys.create_key(store, KeyCreate(name=f"k{i}"), T0 + i)
        dashboards.create(store, DashboardIn(name=f"Board {4 - i}", panels=[]), T0)
        admin.create_channel(store, {"type": "inbox", "name": f"c{i}", "target": "inbox"}, None)
    key_pages = walk(lambda c: keys.list_keys(store, limit=2, cursor=c))
    assert [k.name for k in flat(key_pages)] == [f"k{i}" for i in range(5)] and len(key_pages) == 3
    boards = flat(walk(lambda c: dashboards.list_page(store, limit=2, cursor=c)))
    assert [d.name for d in boards] == [f"Board {i}" for i in range(5)]
    channels = flat(walk(lambda c: admin.list_channels(store, limit=4, cursor=c)))
    assert sorted(c["name"] for c in channels) == [f"c{i}" for i in range(5)]


def test_inbox_and_alert_history_are_paged_newest_first(store: Any) -> None:
    for i in range(7):
        store.put_doc(repo.INBOX_KIND, f"n{i}", {"id": f"n{i}", "created_at": T0 + i, "read": i < 2})
        store.put_doc(repo.HISTORY_KIND, f"h{i}", {"id": f"h{i}", "at": T0 + i // 2})

    def inbox(cursor: str | None) -> tuple[list[Any], str | None]:
        answer = admin.list_notifications(store, limit=3, cursor=cursor)
        assert answer["unread"] == 5
        return [n["id"] for n in answer["items"]], answer["next_cursor"]

    assert flat(walk(inbox)) == [f"n{i}" for i in reversed(range(7))]

    def history(cursor: str | None) -> tuple[list[Any], str | None]:
        answer = repo.list_alerts(store, history_limit=2, cursor=cursor)
        return [h["id"] for h in answer["history"]], answer["next_cursor"]

    pages = walk(history)
    assert len(pages) == 4 and sorted(flat(pages)) == [f"h{i}" for i in range(7)]
    assert flat(pages) == [h["id"] for h in repo.list_alerts(store, history_limit=100)["history"]]


@pytest.mark.parametrize(
    "cursor", ["not base64 !", encode_cursor(["web-1"]), encode_cursor([{"x": 1}]), "e30"]
)
def test_a_cursor_this_list_did_not_hand_out_is_invalid_naming_cursor(store: Any, cursor: str) -> None:
    store.record_errors([ErrorEvent("fp", "E", "m", None, None, None, T0)])
    with pytest.raises(Invalid) as caught:
        error_queries.error_groups(store, T0 + 10, since="-1h", limit=3, cursor=cursor)
    assert caught.value.field == "cursor"


def test_a_page_of_hosts_agrees_with_the_full_listing_taken_before_it(store: Any) -> None:
    for i in range(8):
        host = f"web-{i:02d}"
        store.put_samples(host, [Point(host, "cpu", (), T0 + i, 0.5)], None, T0 + i, push_interval=60.0)
    everything = store.list_hosts()
    pages = [store.list_hosts(limit=3), store.list_hosts(after="web-02", limit=3)]
    assert [h for page in pages for h in page] == everything[:6]
    assert {h.cadence.declared for h in everything} == {60.0}


def _page_requests(moto_client: Any, store: Any, limit: int) -> tuple[dict[str, Any], list[str]]:
    from tests.contract.test_dynamodb_store import CallLog

    calls = CallLog(moto_client)
    try:
        answer = listings.hosts(store, Config(), T0, limit=limit)
    finally:
        moto_client.meta.events.unregister("before-call.dynamodb", calls._record)
    return answer, [name for name, _ in calls.calls]


def test_a_page_of_hosts_on_dynamodb_without_a_recent_full_listing_queries_only_its_own_hosts(
    moto_client: Any, tables: tuple[str, str], make_dynamo_store: Any
) -> None:
    store = make_dynamo_store(moto_client, tables)
    for i in range(30):
        store.put_samples(f"web-{i:02d}", [Point(f"web-{i:02d}", "cpu", (), T0, 0.5)], None, T0)
    answer, calls = _page_requests(moto_client, store, 5)
    assert len(answer["hosts"]) == 5 and answer["next_cursor"]
    # the HOST page, the (missing) push summary, one newest-chunk Query per host listed (page + 1)
    assert calls == ["Query"] * (2 + 6)


@pytest.mark.parametrize("limit", [5, 50])
def test_a_page_of_hosts_on_dynamodb_costs_two_queries_whatever_its_size_after_a_full_listing(
    moto_client: Any, tables: tuple[str, str], make_dynamo_store: Any, limit: int
) -> None:
    store = make_dynamo_store(moto_client, tables)
    for i in range(60):
        host = f"web-{i:02d}"
        store.put_samples(host, [Point(host, "cpu", (), T0, 0.5)], None, T0 + i, push_interval=10.0)
    store.list_hosts()  # what the evaluator does every tick
    answer, calls = _page_requests(moto_client, store, limit)
    assert calls == ["Query", "Query"]  # the HOST page and the push summary
    assert len(answer["hosts"]) == limit and {h["status"] for h in answer["hosts"]} == {"up"}
    assert answer["hosts"][3]["last_seen"] == listings.iso(T0 + 3) and answer["hosts"][3]["interval_s"] == 10


def test_a_page_of_hosts_on_dynamodb_reads_its_hosts_again_once_the_push_summary_is_old(
    moto_client: Any, tables: tuple[str, str], make_dynamo_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vigil.adapters.store import dynamodb_pushes

    store = make_dynamo_store(moto_client, tables)
    for i in range(10):
        store.put_samples(f"web-{i:02d}", [Point(f"web-{i:02d}", "cpu", (), T0, 0.5)], None, T0)
    store.list_hosts()
    store.put_samples("web-03", [Point("web-03", "cpu", (), T0 + 50, 0.5)], None, T0 + 50)
    monkeypatch.setattr(dynamodb_pushes, "PUSHES_MAX_AGE_SECONDS", -1.0)  # the summary is too old
    answer, calls = _page_requests(moto_client, store, 5)
    assert calls == ["Query"] * (2 + 6)
    assert answer["hosts"][3]["last_seen"] == listings.iso(T0 + 50)
