"""Request bodies never reach the logs. Powertools formats every route's validated arguments into a
debug line on each request (`Calling API Route Handler: {...}`), whether anything logs it or not;
Vigil keeps only the arguments' names and types there. So the DEBUG logging someone turns on to
chase a problem shows no webhook secret, no error text and no sample value, and at INFO nothing of a
big batch is formatted at all."""

from __future__ import annotations

import logging

import pytest

from vigil.local.client import GatewayClient

SECRET = "whsec-0123456789abcdef-never-logged"
CARD = "4111-1111-1111-1111"
VALUE = 987654.321
TENANT = "acme-private-tenant"


def _push_everything(admin: GatewayClient, ingest: GatewayClient) -> None:
    channel = {"type": "webhook", "name": "hook", "target": "https://hooks.example.com/a/b", "secret": SECRET}
    assert admin.post("/api/channels", json=channel).status == 201
    error = {"type": "PaymentError", "message": f"card {CARD} declined"}
    assert ingest.post("/v1/errors", json={"errors": [error]}).status == 202
    samples = [{"metric": "shop.revenue", "value": VALUE, "labels": {"tenant": TENANT}}] * 5000
    assert ingest.post("/v1/samples", json={"host": "web-1", "samples": samples}).status == 202


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


def test_debug_logs_name_the_route_arguments_but_never_show_their_values(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    admin: GatewayClient,
    ingest: GatewayClient,
) -> None:
    # as POWERTOOLS_DEBUG would: Powertools' package logger writes its debug lines (it never
    # propagates them by default, so the test lets them reach the capture)
    monkeypatch.setattr(logging.getLogger("aws_lambda_powertools"), "propagate", True)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="aws_lambda_powertools")
    _push_everything(admin, ingest)
    logged = _logged(caplog)
    assert "Calling API Route Handler" in logged  # the line is there, with names only
    assert "'channel': <ChannelCreate>" in logged
    for private in (SECRET, CARD, str(VALUE), TENANT):
        assert private not in logged


def test_info_logs_carry_nothing_of_a_big_batch(
    caplog: pytest.LogCaptureFixture, admin: GatewayClient, ingest: GatewayClient
) -> None:
    caplog.set_level(logging.INFO)
    _push_everything(admin, ingest)
    logged = _logged(caplog)
    for private in (SECRET, CARD, str(VALUE), TENANT):
        assert private not in logged
