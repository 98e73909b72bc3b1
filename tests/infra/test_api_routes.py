"""The HTTP API is built from vigil.api.route_table: every path, its function and its authorizer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from aws_cdk.assertions import Match

from infra.api import CORS_HEADERS
from vigil.api.route_table import ROUTE_TABLE

if TYPE_CHECKING:
    from tests.infra.conftest import Synth

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def _routes(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in synth.resources("AWS::ApiGatewayV2::Route").values()
    }


def _function_behind(synth: Synth, route: dict[str, Any]) -> str:
    integration_id = route["Target"]["Fn::Join"][1][1]["Ref"]
    integration = synth.raw["Resources"][integration_id]["Properties"]
    function_id = integration["IntegrationUri"]["Fn::GetAtt"][0]
    names = {synth.logical_id(fn): name for name, fn in synth.stack.functions}
    return names[function_id]


def test_every_route_table_path_is_one_any_route_and_nothing_else(synth: Synth) -> None:
    assert set(_routes(synth)) == {f"ANY {b.path}" for b in ROUTE_TABLE}


@pytest.mark.parametrize("binding", ROUTE_TABLE, ids=lambda b: b.path)
def test_route_reaches_the_function_the_route_table_names(synth: Synth, binding: Any) -> None:
    route = _routes(synth)[f"ANY {binding.path}"]
    assert _function_behind(synth, route) == binding.function


@pytest.mark.parametrize("binding", ROUTE_TABLE, ids=lambda b: b.path)
def test_only_user_routes_carry_the_cognito_jwt_authorizer(synth: Synth, binding: Any) -> None:
    route = _routes(synth)[f"ANY {binding.path}"]
    (authorizer_id,) = synth.resources("AWS::ApiGatewayV2::Authorizer")
    if binding.auth == "user":
        assert route["AuthorizationType"] == "JWT"
        assert route["AuthorizerId"] == {"Ref": authorizer_id}
    else:
        assert route.get("AuthorizationType", "NONE") == "NONE"
        assert "AuthorizerId" not in route


def test_health_is_public(synth: Synth) -> None:
    assert _routes(synth)["ANY /health"].get("AuthorizationType", "NONE") == "NONE"


def test_jwt_authorizer_trusts_only_this_user_pool_and_dashboard_client(synth: Synth) -> None:
    authorizers = list(synth.resources("AWS::ApiGatewayV2::Authorizer").values())
    assert len(authorizers) == 1
    props = authorizers[0]["Properties"]
    assert props["AuthorizerType"] == "JWT"
    assert props["IdentitySource"] == ["$request.header.Authorization"]
    client_id = synth.logical_id(synth.stack.auth.client)
    assert props["JwtConfiguration"]["Audience"] == [{"Ref": client_id}]
    assert "cognito-idp" in str(props["JwtConfiguration"]["Issuer"])


def test_cors_allows_only_the_dashboard_and_configured_origins(synth: Synth) -> None:
    cors = synth.resources("AWS::ApiGatewayV2::Api").popitem()[1]["Properties"]["CorsConfiguration"]
    origins = cors["AllowOrigins"]
    assert len(origins) == 2
    assert origins[0] == {
        "Fn::Join": [
            "",
            ["https://", {"Fn::GetAtt": [synth.logical_id(synth.stack.site.distribution), "DomainName"]}],
        ]
    }
    assert origins[1] == "http://localhost:5173"
    assert "*" not in str(origins)
    assert set(cors["AllowHeaders"]) == set(CORS_HEADERS)
    # a cross-origin dashboard reads these, or paging, 304s and download names break only in AWS
    assert {"etag", "x-next-cursor", "content-disposition"} <= set(cors["ExposeHeaders"])


def test_default_stage_throttles_and_writes_json_access_logs(synth: Synth) -> None:
    synth.template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "DefaultRouteSettings": {"ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 200},
            "AccessLogSettings": {
                "DestinationArn": {"Fn::GetAtt": [Match.string_like_regexp("AccessLogs"), "Arn"]},
                "Format": Match.string_like_regexp(r'"routeKey":"\$context.routeKey"'),
            },
        },
    )


def test_the_ingest_function_url_targets_the_metrics_function_without_cors(synth: Synth) -> None:
    (url,) = synth.resources("AWS::Lambda::Url").values()
    metrics = synth.logical_id(synth.stack.functions.metrics)
    assert url["Properties"] == {"AuthType": "NONE", "TargetFunctionArn": {"Fn::GetAtt": [metrics, "Arn"]}}


def test_the_function_url_is_public_only_for_invocations_through_the_url(synth: Synth) -> None:
    metrics = synth.logical_id(synth.stack.functions.metrics)
    public = [
        p["Properties"]
        for p in synth.resources("AWS::Lambda::Permission").values()
        if p["Properties"].get("Principal") == "*"
    ]
    assert sorted(public, key=lambda p: p["Action"]) == [
        {  # Lambda has required this as well for URLs created since October 2025
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": [metrics, "Arn"]},
            "InvokedViaFunctionUrl": True,
            "Principal": "*",
        },
        {
            "Action": "lambda:InvokeFunctionUrl",
            "FunctionName": {"Fn::GetAtt": [metrics, "Arn"]},
            "FunctionUrlAuthType": "NONE",
            "Principal": "*",
        },
    ]


def test_the_ingest_function_url_output_has_no_trailing_slash(synth: Synth) -> None:
    url_id = next(iter(synth.resources("AWS::Lambda::Url")))
    assert synth.raw["Outputs"]["IngestFunctionUrl"]["Value"] == {
        "Fn::Join": [
            "",
            ["https://", {"Fn::Select": [2, {"Fn::Split": ["/", {"Fn::GetAtt": [url_id, "FunctionUrl"]}]}]}],
        ]
    }


def test_every_function_logs_json_without_lambdas_per_invocation_platform_lines(synth: Synth) -> None:
    for name, fn in synth.stack.functions:
        config = synth.raw["Resources"][synth.logical_id(fn)]["Properties"]["LoggingConfig"]
        assert (config["LogFormat"], config["SystemLogLevel"], config["ApplicationLogLevel"]) == (
            "JSON",
            "WARN",
            "INFO",  # EMF metric lines carry no level: Lambda files them under INFO, and they must pass
        ), name
