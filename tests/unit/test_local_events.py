"""The local gateway's request → API Gateway v2.0 event conversion keeps API Gateway's quirks, and the
real handlers accept recorded AWS events unchanged."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from vigil.api.route_table import match_function
from vigil.local.events import from_result, to_event

EVENTS = Path(__file__).parents[1] / "events"


def test_headers_are_lowercased_and_repeats_joined_with_commas() -> None:
    event = to_event(
        "GET", "/api/hosts", "", [("X-Thing", "a"), ("x-thing", "b")], b"", route_key="ANY /api/{proxy+}"
    )
    assert event["headers"] == {"x-thing": "a,b"}


def test_repeated_query_parameters_are_joined_and_raw_query_kept() -> None:
    event = to_event("GET", "/api/x", "host=a&host=b&agg=avg", [], b"", route_key="r")
    assert event["queryStringParameters"] == {"host": "a,b", "agg": "avg"}
    assert event["rawQueryString"] == "host=a&host=b&agg=avg"


def test_cookies_move_into_the_cookies_list() -> None:
    event = to_event("GET", "/", "", [("Cookie", "a=1; b=2")], b"", route_key="r")
    assert event["cookies"] == ["a=1", "b=2"] and "cookie" not in event["headers"]


def test_json_bodies_pass_as_text_and_binary_bodies_as_base64() -> None:
    text = to_event(
        "POST", "/v1/samples", "", [("content-type", "application/json")], b'{"a":1}', route_key="r"
    )
    assert text["body"] == '{"a":1}' and text["isBase64Encoded"] is False
    raw = b"\x0a\x03\xff\x00"
    binary = to_event(
        "POST", "/v1/metrics", "", [("content-type", "application/x-protobuf")], raw, route_key="r"
    )
    assert binary["isBase64Encoded"] is True and base64.b64decode(binary["body"]) == raw
    gz = to_event(
        "POST",
        "/v1/metrics",
        "",
        [("content-type", "application/json"), ("content-encoding", "gzip")],
        b"\x1f\x8b",
        route_key="r",
    )
    assert gz["isBase64Encoded"] is True


def test_invalid_utf8_in_a_json_body_is_base64_encoded_like_api_gateway() -> None:
    event = to_event(
        "POST", "/v1/samples", "", [("content-type", "application/json")], b"\xff", route_key="r"
    )
    assert event["isBase64Encoded"] is True


def test_results_become_http_responses_with_multi_value_headers_and_cookies() -> None:
    response = from_result(
        {
            "statusCode": 201,
            "headers": {"A": "1"},
            "multiValueHeaders": {"B": ["2", "3"]},
            "cookies": ["s=1"],
            "body": base64.b64encode(b"\x00").decode(),
            "isBase64Encoded": True,
        }
    )
    assert response.status == 201 and response.body == b"\x00"
    assert (
        ("B", "2") in response.headers
        and ("B", "3") in response.headers
        and ("Set-Cookie", "s=1") in response.headers
    )


def test_route_table_picks_the_longest_prefix() -> None:
    assert match_function("/health").function == "health"  # type: ignore[union-attr]
    assert match_function("/api/alerts/rules").function == "alerts"  # type: ignore[union-attr]
    assert match_function("/api/hosts").function == "metrics"  # type: ignore[union-attr]
    assert match_function("/v1/samples").function == "metrics"  # type: ignore[union-attr]
    assert match_function("/index.html") is None


def test_a_recorded_aws_ingest_event_is_served_by_the_real_handler(gateway, ingest_key: str) -> None:  # type: ignore[no-untyped-def]
    from vigil.wiring import bind

    event = json.loads((EVENTS / "http_api_v2_post_samples.json").read_text())
    event["headers"]["authorization"] = f"Bearer {ingest_key}"
    with bind(gateway.ctx):
        result = gateway.handler_for("metrics")(event, None)
    assert result["statusCode"] == 202
    assert json.loads(result["body"]) == {"accepted": 1, "duplicate": False}


def test_a_recorded_cognito_viewer_event_reads_the_series(gateway) -> None:  # type: ignore[no-untyped-def]
    from vigil.wiring import AppContext, bind

    cognito = AppContext(
        gateway.ctx.config.with_(auth_mode="cognito"), clock=gateway.ctx.clock, _store=gateway.ctx.store
    )
    event = json.loads((EVENTS / "http_api_v2_get_series_jwt.json").read_text())
    with bind(cognito):
        ok = gateway.handler_for("metrics")(event, None)
        event["requestContext"].pop("authorizer")
        denied = gateway.handler_for("metrics")(event, None)
        viewer_event = json.loads((EVENTS / "http_api_v2_get_series_jwt.json").read_text())
        viewer_event["rawPath"] = viewer_event["requestContext"]["http"]["path"] = "/api/keys"
        viewer_event["requestContext"]["http"]["method"] = "POST"
        viewer_event["body"] = '{"name": "x"}'
        forbidden = gateway.handler_for("metrics")(viewer_event, None)
    assert ok["statusCode"] == 200 and json.loads(ok["body"])["metric"] == "system.cpu.utilization"
    assert denied["statusCode"] == 401
    assert forbidden["statusCode"] == 403
