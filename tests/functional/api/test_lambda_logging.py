"""Powertools Logger and Metrics in the handlers: structured JSON with the request id, EMF metrics in
AWS mode — and never a key or token in what they print."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from tests.conftest import ADMIN_TOKEN
from vigil.local.client import GatewayClient, json_of
from vigil.local.gateway import Gateway, load_function_handler


def test_ingest_emits_an_emf_metric_and_logs_no_secret(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], admin: GatewayClient, gateway
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    ctx = gateway.ctx
    ctx.config = ctx.config.with_(emit_metrics=True)
    key = json_of(admin.post("/api/keys", json={"name": "web-9"}))["key"]
    pusher = GatewayClient(gateway, token=key)
    assert (
        pusher.post(
            "/v1/samples",
            json={"host": "web-9", "samples": [{"metric": "system.cpu.utilization", "value": 0.5}]},
        ).status
        == 202
    )
    assert (
        pusher.post(
            "/v1/samples",
            json={"host": "web-9", "samples": [{"metric": "bad metric", "value": 1}]},
        ).status
        == 400
    )
    assert (
        pusher.post("/v1/samples", token="vk_wrong-secret", json={"host": "x", "samples": []}).status == 401
    )
    out = capfd.readouterr()
    printed = out.out + out.err
    emf = [json.loads(line) for line in out.out.splitlines() if '"_aws"' in line]
    assert any(doc.get("SamplesAccepted") == [1.0] or doc.get("SamplesAccepted") == 1.0 for doc in emf), emf
    for secret in (key, "vk_wrong-secret", admin.token or "x"):
        assert secret not in printed


@pytest.fixture
def lambda_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Lambda mode's logging (Powertools JSON on every `vigil.*` logger), written to a buffer, and the
    process-wide logger state put back afterwards so other tests keep capturing logs."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "vigil-metrics")
    vigil_logger = logging.getLogger("vigil")
    saved = (list(vigil_logger.handlers), vigil_logger.propagate, vigil_logger.level)
    stream = io.StringIO()
    try:
        handler = load_function_handler("metrics")  # as a cold start in Lambda does
        for h in vigil_logger.handlers:
            if isinstance(h, logging.StreamHandler):
                h.stream = stream  # Powertools bound it to the stdout of the moment (maybe closed since)
        yield stream, handler  # type: ignore[misc]
    finally:
        vigil_logger.handlers[:] = saved[0]
        vigil_logger.propagate, vigil_logger.level = saved[1], saved[2]


def test_a_crash_is_logged_as_json_with_the_request_id_and_answered_without_internals(
    gateway,
    ctx,
    monkeypatch: pytest.MonkeyPatch,
    lambda_logging,  # type: ignore[no-untyped-def]
) -> None:
    stream, handler = lambda_logging
    admin = GatewayClient(Gateway(ctx, {"metrics": handler}), token=ADMIN_TOKEN)

    def boom(*args: object, **kwargs: object) -> list[object]:
        raise RuntimeError("database file at /secret/path exploded")

    monkeypatch.setattr(ctx.store, "list_hosts", boom)
    response = admin.get("/api/hosts")
    assert response.status == 500
    assert json_of(response) == {
        "error": {
            "code": "internal",
            "message": "internal error; the request id is in the logs",
            "field": None,
        }
    }
    logged = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    crash = [entry for entry in logged if entry.get("level") == "ERROR"]
    assert crash and crash[0]["request_id"] and "exploded" in crash[0]["exception"]
