"""Powertools Logger and Metrics in the handlers: structured JSON with the request id, EMF metrics in
AWS mode — and never a key or token in what they print."""

from __future__ import annotations

import io
import json
import logging

import pytest

from vigil.local.client import GatewayClient, json_of


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


def test_a_crash_is_logged_as_json_with_the_request_id_and_answered_without_internals(
    admin: GatewayClient,
    ctx,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    admin.get("/api/me")  # the metrics handler (and its Powertools Logger config) is loaded
    # Powertools binds its handler to the stdout of the moment; read what it writes from a buffer instead.
    stream = io.StringIO()
    for handler in logging.getLogger("vigil").handlers:
        if isinstance(handler, logging.StreamHandler):
            monkeypatch.setattr(handler, "stream", stream)

    def boom() -> list[object]:
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
