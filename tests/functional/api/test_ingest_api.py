"""POST /v1/samples and /v1/errors through the real gateway and metrics handler."""

from __future__ import annotations

import pytest

from tests.conftest import FrozenClock
from vigil.local.client import GatewayClient, json_of


def batch(*samples: dict, host: str = "web-1", **extra: object) -> dict:
    return {"host": host, "samples": list(samples), **extra}


def cpu(value: object = 0.42, **extra: object) -> dict:
    return {"metric": "system.cpu.utilization", "value": value, "labels": {"cpu": "total"}, **extra}


def stored(admin: GatewayClient, metric: str = "system.cpu.utilization") -> list[float | None]:
    body = json_of(
        admin.get(
            "/api/metrics/series", params={"metric": metric, "from": "-2h", "step": "60", "agg": "count"}
        )
    )
    return [v for s in body["series"] for v in s["values"] if v]


def test_a_batch_is_accepted_and_read_back_through_the_series_api(
    ingest: GatewayClient, admin: GatewayClient, clock: FrozenClock
) -> None:
    clock.t = clock.t // 300 * 300 + 100  # both samples fall in one 5-minute bucket
    response = ingest.post(
        "/v1/samples", json=batch(cpu(0.25, ts=clock.now() - 30), cpu(0.75, ts=clock.now()))
    )
    assert response.status == 202
    assert json_of(response) == {"accepted": 2, "duplicate": False}
    series = json_of(
        admin.get(
            "/api/metrics/series",
            params={"metric": "system.cpu.utilization", "from": "-5m", "agg": "avg", "step": "300"},
        )
    )
    values = [v for v in series["series"][0]["values"] if v is not None]
    assert series["series"][0]["host"] == "web-1"
    assert values == [pytest.approx(0.5)]


def test_a_repeated_batch_id_is_stored_once(ingest: GatewayClient, admin: GatewayClient) -> None:
    body = batch(cpu(0.1), batch_id="agent-42")
    assert json_of(ingest.post("/v1/samples", json=body))["duplicate"] is False
    again = ingest.post("/v1/samples", json={**body, "samples": [cpu(0.9)]})
    assert again.status == 202 and json_of(again)["duplicate"] is True
    assert sum(stored(admin)) == 1


def test_an_idempotency_key_header_deduplicates_like_batch_id(
    ingest: GatewayClient, admin: GatewayClient
) -> None:
    for value in (0.1, 0.2):
        ingest.post("/v1/samples", json=batch(cpu(value)), headers={"idempotency-key": "retry-7"})
    assert sum(stored(admin)) == 1


def test_timestamps_accept_epoch_and_rfc3339(
    ingest: GatewayClient, admin: GatewayClient, clock: FrozenClock
) -> None:
    from vigil.domain.timeparse import iso

    response = ingest.post(
        "/v1/samples", json=batch(cpu(0.1, ts=clock.now() - 120), cpu(0.2, ts=iso(clock.now())))
    )
    assert response.status == 202
    assert sum(stored(admin)) == 2


def test_histogram_samples_are_accepted(ingest: GatewayClient) -> None:
    hist = {"bounds": [0.1, 0.5, 1.0], "counts": [5, 3, 1, 1], "sum": 2.9, "count": 10}
    response = ingest.post(
        "/v1/samples", json=batch({"metric": "http.server.request.duration", "histogram": hist})
    )
    assert response.status == 202, response.body


BAD_BATCHES = [
    ("false is not a number", batch(cpu(False)), "samples[0].value"),
    ("a string is not a number", batch(cpu("0.5")), "samples[0].value"),
    ("value and histogram both missing", batch({"metric": "m"}), "samples[0]"),
    ("metric name with spaces", batch({"metric": "cpu usage", "value": 1}), "samples[0].metric"),
    ("metric name too long", batch({"metric": "m" * 201, "value": 1}), "samples[0].metric"),
    ("eleven labels", batch(cpu(labels={f"k{i}": "v" for i in range(11)})), "samples[0].labels"),
    ("label name with a space", batch(cpu(labels={"bad key": "v"})), "samples[0].labels"),
    ("unknown sample field", batch(cpu(valu=1)), "samples[0].valu"),
    ("unknown batch field", batch(cpu(), hostname="x"), "hostname"),
    ("host missing", {"samples": [cpu()]}, "host"),
    ("empty batch", batch(), "samples"),
    ("bad rfc3339", batch(cpu(ts="yesterday-ish")), "samples[0].ts"),
    (
        "histogram counts do not add up",
        batch({"metric": "h", "histogram": {"bounds": [1], "counts": [1, 1], "sum": 1, "count": 5}}),
        "samples[0].histogram",
    ),
    (
        "histogram bounds not increasing",
        batch({"metric": "h", "histogram": {"bounds": [2, 1], "counts": [1, 1, 1], "sum": 1, "count": 3}}),
        "samples[0].histogram",
    ),
]


@pytest.mark.parametrize(("why", "body", "field"), BAD_BATCHES, ids=[b[0] for b in BAD_BATCHES])
def test_bad_samples_get_a_400_naming_the_field_and_nothing_is_stored(
    ingest: GatewayClient, admin: GatewayClient, why: str, body: dict, field: str
) -> None:
    good_then_bad = {**body, "samples": [cpu(0.3), *body.get("samples", [])]} if body.get("samples") else body
    response = ingest.post("/v1/samples", json=good_then_bad)
    assert response.status == 400, (why, response.body)
    error = json_of(response)["error"]
    assert error["code"] == "invalid"
    expected = field.replace("samples[0]", "samples[1]") if body.get("samples") else field
    assert error["field"] is not None and error["field"].startswith(expected), error
    assert error["message"]
    assert stored(admin) == []


@pytest.mark.parametrize("raw", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_are_refused(ingest: GatewayClient, raw: bytes) -> None:
    body = b'{"host":"web-1","samples":[{"metric":"m","value":' + raw + b"}]}"
    response = ingest.post("/v1/samples", body=body, headers={"content-type": "application/json"})
    assert response.status == 400
    assert json_of(response)["error"]["field"] in ("body", "samples[0].value")


def test_stale_and_future_timestamps_are_refused_whole_batch(
    ingest: GatewayClient, admin: GatewayClient, clock: FrozenClock
) -> None:
    old = ingest.post("/v1/samples", json=batch(cpu(0.1), cpu(0.2, ts=clock.now() - 8 * 86400)))
    assert old.status == 400 and json_of(old)["error"]["field"] == "samples[1].ts"
    assert "retention" in json_of(old)["error"]["message"]
    future = ingest.post("/v1/samples", json=batch(cpu(0.2, ts=clock.now() + 11 * 60)))
    assert future.status == 400 and "future" in json_of(future)["error"]["message"]
    assert stored(admin) == []


@pytest.mark.parametrize(
    ("body", "ctype", "status", "field"),
    [
        (b"{not json", "application/json", 400, "body"),
        (b"\xff\xfe\xfa", "application/json", 400, "body"),
        (b"--x\r\n", "multipart/form-data", 415, "content-type"),
        (b"a=1", "application/x-www-form-urlencoded", 415, "content-type"),
        (b'["a list"]', "application/json", 400, "body"),
        (b"", "application/json", 400, "body"),
    ],
    ids=["malformed json", "non-utf8", "multipart without boundary", "form", "json list", "empty body"],
)
def test_malformed_bodies_get_a_clear_4xx_never_a_500(
    ingest: GatewayClient, body: bytes, ctype: str, status: int, field: str
) -> None:
    response = ingest.post("/v1/samples", body=body, headers={"content-type": ctype})
    assert response.status == status, response.body
    assert json_of(response)["error"]["field"] == field


def test_a_batch_over_5000_samples_is_refused(ingest: GatewayClient) -> None:
    response = ingest.post(
        "/v1/samples", json=batch(*[cpu(0.1, labels={"i": str(i % 5)}) for i in range(5001)])
    )
    assert response.status in (400, 413)
    assert json_of(response)["error"]["field"] in ("samples", "body")


def test_a_body_over_one_mebibyte_gets_413(ingest: GatewayClient) -> None:
    huge = batch(*[cpu(0.1, labels={"pad": "x" * 250}) for _ in range(4500)])
    response = ingest.post("/v1/samples", json=huge)
    assert response.status == 413
    assert json_of(response)["error"]["code"] == "too_large"


def test_pushing_without_a_key_is_401_and_with_a_revoked_key_too(
    anonymous: GatewayClient, admin: GatewayClient, ingest: GatewayClient
) -> None:
    assert anonymous.post("/v1/samples", json=batch(cpu())).status == 401
    assert ingest.post("/v1/samples", json=batch(cpu()), token="vk_made-up").status == 401
    key_id = json_of(admin.get("/api/keys"))[0]["id"]
    assert admin.delete(f"/api/keys/{key_id}").status == 200
    assert ingest.post("/v1/samples", json=batch(cpu())).status == 401


def test_the_admin_token_is_not_an_ingest_key(admin: GatewayClient) -> None:
    assert admin.post("/v1/samples", json=batch(cpu())).status == 401


def test_cardinality_guard_refuses_the_series_over_the_limit(ctx, ingest: GatewayClient) -> None:  # type: ignore[no-untyped-def]
    ctx.config = ctx.config.with_(max_series_per_host=3)
    ok = ingest.post("/v1/samples", json=batch(*[cpu(labels={"cpu": str(i)}) for i in range(3)]))
    assert ok.status == 202
    over = ingest.post("/v1/samples", json=batch(cpu(labels={"cpu": "99"})))
    assert over.status == 422
    assert "VIGIL_MAX_SERIES_PER_HOST" in json_of(over)["error"]["message"]


def test_error_reports_are_grouped_by_fingerprint(ingest: GatewayClient, admin: GatewayClient) -> None:
    errors = [
        {
            "type": "TimeoutError",
            "message": f"query 1{i} took 3{i}00 ms",
            "service": "api",
            "stack": 'File "app/db.py", line 10, in run\nTimeoutError',
        }
        for i in range(3)
    ]
    errors.append({"type": "KeyError", "message": "'user'", "service": "api"})
    response = ingest.post("/v1/errors", json={"errors": errors})
    assert response.status == 202 and json_of(response)["accepted"] == 4
    groups = json_of(admin.get("/api/errors"))["errors"]
    counts = sorted((g["type"], g["count"]) for g in groups)
    assert counts == [("KeyError", 1), ("TimeoutError", 3)]


def test_error_reports_with_out_of_window_timestamps_are_refused(
    ingest: GatewayClient, clock: FrozenClock
) -> None:
    response = ingest.post("/v1/errors", json={"errors": [{"type": "E", "ts": 1e18}]})
    assert response.status == 400 and json_of(response)["error"]["field"] == "errors[0].ts"


def test_a_ratio_metric_sent_as_a_percentage_is_refused_naming_the_field_and_the_unit(
    ingest: GatewayClient, admin: GatewayClient
) -> None:
    response = ingest.post("/v1/samples", json=batch(cpu(0.5), cpu(85)))
    assert response.status == 400
    error = json_of(response)["error"]
    assert error["field"] == "samples[1].value"
    assert 'unit "1"' in error["message"] and "0.85" in error["message"]
    assert stored(admin) == []


@pytest.mark.parametrize("value", [0.0, 1.0, 1.02, 1.5])
def test_ratios_up_to_the_documented_tolerance_are_accepted(ingest: GatewayClient, value: float) -> None:
    assert ingest.post("/v1/samples", json=batch(cpu(value))).status == 202


def test_metrics_outside_the_catalogue_take_any_value(ingest: GatewayClient) -> None:
    sample = {"metric": "shop.basket.size", "value": 85}
    assert ingest.post("/v1/samples", json=batch(sample)).status == 202
