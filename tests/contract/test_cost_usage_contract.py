"""The cost readout's hourly usage documents behave the same on SQLite and on DynamoDB (moto): the
local meter's pieces of an hour add up, a window takes exactly the hours that ended inside it, and
the hosts counted are those that reported inside the window."""

from __future__ import annotations

from typing import Any

import pytest

from vigil.config import Config
from vigil.domain.cost import Usage
from vigil.domain.models import Point
from vigil.services.cost import USAGE_KIND, add_usage, cost_readout, put_usage

HOUR = 3600.0
NOW = 1_764_000_000.0 // HOUR * HOUR + 600.0  # ten minutes into an hour
CONFIG = Config()


def _cpu(host: str, ts: float) -> list[Point]:
    return [Point(host, "system.cpu.utilization", (), ts, 0.5)]


def test_pieces_of_one_hour_add_up_in_one_document(store: Any) -> None:
    hour = NOW // HOUR * HOUR
    add_usage(store, hour, Usage(seconds=300.0, api_requests=10.0, wru=4.0))
    add_usage(store, hour, Usage(seconds=300.0, api_requests=5.0, rru=2.5))
    (doc,) = store.list_docs(USAGE_KIND)
    assert Usage.from_doc(doc) == Usage(seconds=600.0, api_requests=15.0, wru=4.0, rru=2.5)


def test_a_day_window_takes_the_hours_that_ended_inside_it_and_the_hosts_that_reported(store: Any) -> None:
    hour = NOW // HOUR * HOUR
    for age in range(0, 30):  # the current hour and 29 before it, 100 API requests each
        put_usage(store, hour - age * HOUR, Usage(seconds=HOUR, api_requests=100.0))
    store.put_samples("recent", _cpu("recent", NOW - 3600), None, NOW - 3600)
    store.put_samples("gone", _cpu("gone", NOW - 2 * 86400), None, NOW - 2 * 86400)
    day = cost_readout(store, CONFIG, "24h", NOW)
    # hours starting after NOW - 25 h: the current one and the 24 complete ones before it
    assert day["hours"] == 25.0
    assert {c["name"]: c["units"] for c in day["components"]}["API Gateway requests"] == 2500.0
    assert day["hosts"] == 1
    month = cost_readout(store, CONFIG, "30d", NOW)
    assert month["hours"] == 30.0 and month["hosts"] == 2


@pytest.mark.parametrize("window", ["7d", "", "24H", "1" * 30])
def test_an_unknown_window_is_refused_naming_the_field(store: Any, window: str) -> None:
    from vigil.domain.errors import Invalid

    with pytest.raises(Invalid) as refused:
        cost_readout(store, CONFIG, window, NOW)
    assert refused.value.field == "window"
