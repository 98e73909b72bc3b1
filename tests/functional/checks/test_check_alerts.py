"""The default check alerts, in scripted time: real loopback targets probed by the runner, then the
real evaluator tick (`evaluate_now`, with the shipped default rules and the in-app inbox), step by step.
"Check down" fires after the second failed run in a row and resolves with the next success; "TLS
certificate expiring" fires for a certificate inside the check's `tls_expiry_days` and resolves when it
is not (here: the warning days are lowered); deleting a check resolves its alerts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.check_targets import SelfSigned, http_target, self_signed
from tests.conftest import FrozenClock
from vigil.alerting.entry import evaluate_now
from vigil.domain.checks import CheckIn
from vigil.local.client import GatewayClient, json_of
from vigil.services import checks
from vigil.services.check_runner import Prober, default_prober, run_due
from vigil.wiring import AppContext


def tick(ctx: AppContext, clock: FrozenClock, prober: Prober | None = None, seconds: float = 10.0) -> None:
    clock.advance(seconds)
    run_due(ctx.store, ctx.config, clock.now(), prober=prober)
    evaluate_now(ctx, clock.now())


def add(ctx: AppContext, name: str, url: str, interval: float = 10) -> str:
    return checks.create(
        ctx.store, ctx.config, CheckIn(name=name, url=url, interval=interval, timeout=2), 0
    ).id


def alerts(admin: GatewayClient, status: str) -> list[tuple[str, dict[str, str]]]:
    return sorted((a["rule_id"], a["labels"]) for a in json_of(admin.get("/api/alerts"))[status])


def inbox_titles(admin: GatewayClient) -> list[str]:
    return [n["title"] for n in reversed(json_of(admin.get("/api/notifications"))["items"])]


def test_check_down_fires_after_two_failed_runs_and_resolves_on_recovery(
    ctx: AppContext, clock: FrozenClock, admin: GatewayClient
) -> None:
    with http_target() as target:
        add(ctx, "Shop", target.url(), 10)
        tick(ctx, clock)
        assert alerts(admin, "firing") == []
        target.stop()
        tick(ctx, clock)  # one failed run: not yet
        assert alerts(admin, "firing") == []
        tick(ctx, clock)  # the second in a row
        assert alerts(admin, "firing") == [("default-check-down", {"check": "Shop"})]
        firing = json_of(admin.get("/api/alerts"))["firing"][0]
        assert firing["value"] == 2.0
        target.start()
        tick(ctx, clock)
    assert alerts(admin, "firing") == []
    assert ("default-check-down", {"check": "Shop"}) in alerts(admin, "resolved")
    titles = inbox_titles(admin)
    assert len(titles) == 2 and "Check down" in titles[0] and "RESOLVED" in titles[1].upper()


def test_one_failed_run_between_successes_never_fires(
    ctx: AppContext, clock: FrozenClock, admin: GatewayClient
) -> None:
    with http_target() as target:
        add(ctx, "Shop", target.url(), 10)
        for _ in range(3):
            tick(ctx, clock)
            target.stop()
            tick(ctx, clock)
            target.start()
    assert alerts(admin, "firing") == [] and alerts(admin, "resolved") == []
    assert inbox_titles(admin) == []


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> SelfSigned:
    return self_signed(tmp_path_factory.mktemp("tls"), days=3.0)


def test_a_certificate_inside_its_warning_days_warns_until_it_is_not(
    ctx: AppContext, clock: FrozenClock, admin: GatewayClient, cert: SelfSigned
) -> None:
    prober = default_prober(ctx.config, cert.client_context())
    with http_target(tls=cert.server_context()) as target:
        body: dict[str, Any] = {
            "name": "Secure",
            "url": target.url(host="localhost"),
            "interval": 10,
            "timeout": 2,
        }
        made = checks.create(ctx.store, ctx.config, CheckIn.model_validate(body), 0)  # warns at 14 days
        tick(ctx, clock, prober)
        assert alerts(admin, "firing") == [("default-check-tls", {"check": "Secure"})]
        fewer = CheckIn.model_validate({**body, "tls_expiry_days": 2})  # 3 days left is fine now
        checks.replace(ctx.store, ctx.config, made.id, fewer, clock.now())
        tick(ctx, clock, prober)
    assert alerts(admin, "firing") == []
    assert alerts(admin, "resolved") == [("default-check-tls", {"check": "Secure"})]


def test_deleting_a_down_check_resolves_its_alert(
    ctx: AppContext, clock: FrozenClock, admin: GatewayClient
) -> None:
    with http_target() as target:
        made = add(ctx, "Old", target.url(), 10)
    tick(ctx, clock)
    tick(ctx, clock)
    assert alerts(admin, "firing") == [("default-check-down", {"check": "Old"})]
    clock.advance(1)
    assert admin.delete(f"/api/checks/{made}").status == 204
    tick(ctx, clock)
    assert alerts(admin, "firing") == []
    assert alerts(admin, "resolved") == [("default-check-down", {"check": "Old"})]


def test_a_check_running_every_ten_minutes_stays_down_between_its_runs(
    ctx: AppContext, clock: FrozenClock, admin: GatewayClient
) -> None:
    with http_target() as target:
        add(ctx, "Batch", target.url(), 600)
    tick(ctx, clock)
    tick(ctx, clock, seconds=600)
    assert alerts(admin, "firing") == [("default-check-down", {"check": "Batch"})]
    for _ in range(9):  # the rules look 5 minutes back; the runner writes the state again meanwhile
        tick(ctx, clock, seconds=60)
        assert alerts(admin, "firing") == [("default-check-down", {"check": "Batch"})]
    assert len(inbox_titles(admin)) == 1


def test_deleting_the_last_check_does_not_report_the_runners_host_as_down(
    ctx: AppContext, clock: FrozenClock, admin: GatewayClient
) -> None:
    with http_target() as target:
        made = add(ctx, "Shop", target.url(), 10)
        for _ in range(6):
            tick(ctx, clock)
        assert admin.delete(f"/api/checks/{made}").status == 204
    for _ in range(12):
        tick(ctx, clock, seconds=60)
    assert alerts(admin, "firing") == [] and alerts(admin, "pending") == []
