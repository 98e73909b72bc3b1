"""The runner against real loopback targets: TLS phases and certificate days from a self-signed
certificate expiring in 3 days, a target that goes down and comes back, per-check timeouts inside one
budget, due selection, and the SSRF policy of each mode."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.check_targets import HttpTarget, SelfSigned, http_target, self_signed
from tests.conftest import FrozenClock
from vigil.adapters.notify.ssrf import check_policy_for
from vigil.adapters.probe import probe
from vigil.config import Config
from vigil.domain.checks import CheckIn
from vigil.services import checks
from vigil.services.check_runner import SYNTHETIC_HOST, default_prober, run_due
from vigil.wiring import AppContext


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> SelfSigned:
    return self_signed(tmp_path_factory.mktemp("tls"), days=3.0)


@pytest.fixture
def tls_target(cert: SelfSigned) -> Iterator[HttpTarget]:
    with http_target(tls=cert.server_context()) as target:
        yield target


def add(ctx: AppContext, **body: Any) -> str:
    made = checks.create(
        ctx.store, ctx.config, CheckIn.model_validate({"interval": 10, "timeout": 2, **body}), 0
    )
    return made.id


def test_https_checks_time_every_phase_and_read_the_certificates_days_left(
    ctx: AppContext, tls_target: HttpTarget, cert: SelfSigned
) -> None:
    check_id = add(ctx, name="Secure", url=tls_target.url(host="localhost"), keyword="systems go")
    report = run_due(
        ctx.store, ctx.config, ctx.clock.now(), prober=default_prober(ctx.config, cert.client_context())
    )
    assert report.ran == [check_id] and report.up == 1
    state = checks.get(ctx.store, check_id, ctx.clock.now())
    assert state.status == "up" and state.tls_days_left is not None and 2.9 < state.tls_days_left < 3.01
    phases = {
        dict(p.labels)["phase"]: p.value
        for p in ctx.store.query_points("synthetic.duration", 0, 2e10, hosts=[SYNTHETIC_HOST])
    }
    assert set(phases) == {"dns", "connect", "tls", "ttfb", "total"}
    assert all(v is not None and v >= 0 for v in phases.values())
    assert phases["total"] >= max(phases["dns"], phases["connect"], phases["tls"], phases["ttfb"])  # type: ignore[type-var]
    days = list(ctx.store.query_points("synthetic.tls_days_left", 0, 2e10))
    expiring = list(ctx.store.query_points("synthetic.tls_expiring", 0, 2e10))
    assert [dict(p.labels) for p in days] == [{"check": "Secure"}] and [p.value for p in expiring] == [1.0]


def test_an_untrusted_certificate_marks_the_check_down(ctx: AppContext, tls_target: HttpTarget) -> None:
    check_id = add(ctx, name="Secure", url=tls_target.url(host="localhost"))
    run_due(ctx.store, ctx.config, ctx.clock.now())  # the system trust store does not know it
    state = checks.get(ctx.store, check_id, ctx.clock.now())
    assert state.status == "down" and state.last_error is not None
    assert state.last_error.startswith("TLS certificate not accepted")


def test_a_target_that_goes_down_and_comes_back(ctx: AppContext, clock: FrozenClock) -> None:
    with http_target() as target:
        check_id = add(ctx, name="Shop", url=target.url())
        assert run_due(ctx.store, ctx.config, clock.now()).up == 1
        target.stop()
        for _ in range(2):
            clock.advance(10)
            assert run_due(ctx.store, ctx.config, clock.now()).down == 1
        state = ctx.store.get_doc(checks.STATE_KIND, check_id)
        assert state is not None and state["consecutive_failures"] == 2
        assert "cannot connect" in state["last_error"]
        target.start()  # the same port again
        clock.advance(10)
        assert run_due(ctx.store, ctx.config, clock.now()).up == 1
    listed = checks.get(ctx.store, check_id, clock.now())
    assert listed.status == "up" and listed.uptime_24h == 50.0
    failures = sorted(ctx.store.query_points("synthetic.failures", 0, 2e10), key=lambda p: p.ts)
    assert [p.value for p in failures] == [0.0, 1.0, 2.0, 0.0]


def test_only_due_checks_run(ctx: AppContext, clock: FrozenClock) -> None:
    with http_target() as target:
        fast = add(ctx, name="Fast", url=target.url(), interval=10)
        slow = add(ctx, name="Slow", url=target.url(), interval=60)
        assert sorted(run_due(ctx.store, ctx.config, clock.now()).ran) == sorted([fast, slow])
        clock.advance(10)
        assert run_due(ctx.store, ctx.config, clock.now()).ran == [fast]
        clock.advance(5)
        assert run_due(ctx.store, ctx.config, clock.now()).ran == []
        clock.advance(45)
        assert sorted(run_due(ctx.store, ctx.config, clock.now()).ran) == sorted([fast, slow])


def test_a_slow_target_times_out_without_holding_up_the_others(ctx: AppContext) -> None:
    with http_target() as target:
        slow = add(ctx, name="Slow", url=target.url("/slow"), timeout=0.5)
        quick = [add(ctx, name=f"Quick {i}", url=target.url()) for i in range(8)]
        started = time.monotonic()
        report = run_due(ctx.store, ctx.config, ctx.clock.now())
        assert time.monotonic() - started < 1.8  # the target's 2 s answer was not waited for
        assert sorted(report.ran) == sorted([slow, *quick]) and report.down == 1
        assert checks.get(ctx.store, slow, 0).last_error == "timed out after 0.5s"


def test_checks_whose_timeout_no_longer_fits_the_budget_wait_for_the_next_run(ctx: AppContext) -> None:
    with http_target() as target:
        ids = [add(ctx, name=f"Check {i}", url=target.url(), timeout=2) for i in range(3)]
        report = run_due(ctx.store, ctx.config, ctx.clock.now(), budget=1.0)
        assert report.ran == [] and sorted(report.skipped) == sorted(ids)
        assert all(checks.get(ctx.store, i, 0).status == "pending" for i in ids)


def test_aws_mode_refuses_loopback_targets_unless_allowed(tmp_path: Path) -> None:
    with http_target() as target:
        check = CheckIn(name="x", url=target.url(), timeout=2)
        aws = Config(store="dynamodb", data_dir=tmp_path)
        refused = probe(check, check_policy_for(aws))
        assert not refused.up and refused.error is not None
        assert "loopback" in refused.error and "VIGIL_ALLOW_PRIVATE_CHECKS" in refused.error
        assert probe(check, check_policy_for(aws.with_(allow_private_checks=True))).up
        assert probe(check, check_policy_for(Config(data_dir=tmp_path))).up  # local mode
