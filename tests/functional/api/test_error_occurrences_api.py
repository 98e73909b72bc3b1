"""`GET /api/errors` answers each group's 24 h of hourly occurrences (`occurrences_24h`), through the
real gateway and handlers on a real SQLite file, with the clock moved by hand: errors reported at
scripted times land in their hour's slot, and a day later they have left the window."""

from __future__ import annotations

from tests.conftest import FrozenClock
from vigil.local.client import GatewayClient, json_of

HOUR = 3600
START = 1_767_600_000.0  # 2026-01-05T08:00:00Z, an hour boundary


def report(ingest: GatewayClient, *ages_s: float, now: float, message: str = "cart 7 is empty") -> None:
    errors = [{"type": "CartError", "message": message, "service": "shop", "ts": now - a} for a in ages_s]
    sent = ingest.post("/v1/errors", json={"errors": errors})
    assert sent.status == 202, sent.body


def only_group(admin: GatewayClient) -> dict:
    (group,) = json_of(admin.get("/api/errors"))["errors"]
    return group  # type: ignore[no-any-return]


def test_errors_answer_24_hourly_slots_ending_with_the_current_hour(
    admin: GatewayClient, ingest: GatewayClient, clock: FrozenClock
) -> None:
    clock.t = START + 23 * HOUR + 20 * 60  # 07:20 the next day
    # 3 in the current hour, 2 in the hour before, 1 at 08:30 yesterday (the window's first slot)
    report(ingest, 60, 600, 1200, 1500, 3000, 23 * HOUR - 10 * 60, now=clock.t)
    group = only_group(admin)
    assert group["count"] == 6 and group["service"] == "shop"
    occ = group["occurrences_24h"]
    assert occ["start"] == "2026-01-05T08:00:00.000Z" and occ["step_s"] == HOUR
    assert occ["counts"] == [1] + [0] * 21 + [2, 3]


def test_a_day_later_the_old_occurrences_have_left_the_window_but_the_total_keeps_them(
    admin: GatewayClient, ingest: GatewayClient, clock: FrozenClock
) -> None:
    clock.t = START + 30 * 60
    report(ingest, 0, 60, now=clock.t)
    clock.advance(25 * HOUR)
    report(ingest, 0, now=clock.t, message="cart 9 is empty")  # the same group (numbers normalised)
    group = only_group(admin)
    assert group["count"] == 3
    assert group["occurrences_24h"]["counts"] == [0] * 23 + [1]
    clock.advance(24 * HOUR + 60)  # nothing since: an all-zero window, the group outside `since` (-24h)
    assert json_of(admin.get("/api/errors"))["errors"] == []
    (group,) = json_of(admin.get("/api/errors", params={"since": "-7d"}))["errors"]
    assert group["count"] == 3 and group["occurrences_24h"]["counts"] == [0] * 24
