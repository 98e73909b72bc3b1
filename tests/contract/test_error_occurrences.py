"""Hourly occurrence history of error groups (the errors list's 24 h sparkline), on SqliteStore and
DynamoStore: events recorded at scripted times come back in their clock hours, hours older than the
24 h ending with a group's newest occurrence drop out, and on DynamoDB the history stays a few small
attributes of the group's item, read with the group (no request per row)."""

from __future__ import annotations

from typing import Any

from tests.contract.test_dynamodb_store import CallLog, item_size
from vigil.domain.models import ErrorEvent
from vigil.domain.occurrences import HOUR_SECONDS
from vigil.services import error_queries

H0 = 491_000  # an hour index (2026-01-05T08:00Z); timestamps below are scripted from it
T0 = H0 * HOUR_SECONDS


def at(hour: int, minute: float = 0.0) -> float:
    """Epoch seconds `minute` minutes into hour H0 + `hour`."""
    return float((H0 + hour) * HOUR_SECONDS + minute * 60)


def err(ts: float, fp: str = "fp-a") -> ErrorEvent:
    return ErrorEvent(fp, "ValueError", "boom", None, "api", "web-1", ts)


def hourly(store: Any, fp: str = "fp-a") -> dict[int, int]:
    (group,) = [g for g in store.list_error_groups(0.0, 1000) if g.fingerprint == fp]
    return {h - H0: c for h, c in group.hourly.items()}


def test_occurrences_recorded_at_scripted_times_come_back_in_their_clock_hours(store: Any) -> None:
    store.record_errors([err(at(0, 0)), err(at(0, 59.99)), err(at(1, 0)), err(at(5, 30))])
    store.record_errors([err(at(5, 1)), err(at(5, 2), fp="fp-b")])  # a second call adds, per group
    store.record_errors([err(at(3, 10))])  # late: an older hour still counts
    assert hourly(store) == {0: 2, 1: 1, 3: 1, 5: 2}
    assert hourly(store, "fp-b") == {5: 1}
    (group,) = [g for g in store.list_error_groups(0.0) if g.fingerprint == "fp-a"]
    assert group.count == sum(group.hourly.values()) == 6


def test_hours_older_than_a_day_before_the_newest_occurrence_drop_out(store: Any) -> None:
    store.record_errors([err(at(0)), err(at(2)), err(at(10))])
    store.record_errors([err(at(25, 5))])  # hour 25's window is hours 2..25: hour 0 ages out
    assert hourly(store) == {2: 1, 10: 1, 25: 1}
    store.record_errors([err(at(1))])  # a late event before the window is counted, not kept
    assert hourly(store) == {2: 1, 10: 1, 25: 1}
    store.record_errors([err(at(60))])  # a day and a half later: only the new hour is left
    assert hourly(store) == {60: 1}
    (group,) = store.list_error_groups(0.0)
    assert group.count == 6  # the total still counts every occurrence


def test_one_batch_reaching_back_a_week_keeps_only_the_day_before_its_newest_event(store: Any) -> None:
    store.record_errors([err(at(h)) for h in range(0, 24 * 7, 2)] + [err(at(167, 59))])
    assert hourly(store) == {h: 1 for h in range(144, 167, 2)} | {167: 1}


def test_the_api_window_lays_the_hours_out_as_24_slots_ending_with_the_current_hour(store: Any) -> None:
    store.record_errors([err(at(0)), err(at(1)), err(at(1, 30)), err(at(23, 59))])
    (row,) = error_queries.error_groups(store, at(24, 10), since="-7d", limit=10)["errors"]
    occ = row["occurrences_24h"]
    # now is in hour 24: the slots are hours 1..24, so hour 0 is outside the window
    assert occ["start"] == "2026-01-05T09:00:00.000Z" and occ["step_s"] == 3600
    assert occ["counts"] == [2] + [0] * 21 + [1, 0]


def test_a_dynamodb_group_item_holds_at_most_24_small_hour_counters(
    moto_client: Any, tables: tuple[str, str], make_dynamo_store: Any
) -> None:
    store = make_dynamo_store(moto_client, tables)
    log = CallLog(moto_client)
    try:
        for h in range(0, 100):  # one occurrence an hour for over four days
            store.record_errors([err(at(h, 7))])
    finally:
        moto_client.meta.events.unregister("before-call.dynamodb", log._record)
    (item,) = moto_client.scan(TableName=tables[1])["Items"]
    hours = sorted(int(name[2:]) - H0 for name in item if name.startswith("h_"))
    assert hours == list(range(76, 100))
    assert item_size(item) < 1024  # nowhere near DynamoDB's 400 KB item limit
    # a write names at most 24 counters; pruning is one more UpdateItem, only when an hour ages out
    assert [name for name, _ in log.calls].count("UpdateItem") == 100 + (100 - 24)


def test_a_page_of_error_groups_on_dynamodb_is_one_query_however_many_rows(
    moto_client: Any, tables: tuple[str, str], make_dynamo_store: Any
) -> None:
    store = make_dynamo_store(moto_client, tables)
    store.record_errors([err(at(h % 24, h), fp=f"fp-{h:02d}") for h in range(40)])
    log = CallLog(moto_client)
    try:
        page = error_queries.error_groups(store, at(23, 50), since="-24h", limit=40)["errors"]
    finally:
        moto_client.meta.events.unregister("before-call.dynamodb", log._record)
    assert len(page) == 40 and all(sum(g["occurrences_24h"]["counts"]) == 1 for g in page)
    assert [name for name, _ in log.calls] == ["Query"]
