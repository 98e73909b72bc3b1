"""Pushed updates in AWS: an AppSync Events API that browsers join with their Cognito token, one
`live` channel namespace only the metrics function may publish to, named in config.json and allowed
by the dashboard's CSP."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.infra.test_least_privilege import _statements
from tests.infra.test_site_and_auth import _config_json, _one

if TYPE_CHECKING:
    from tests.infra.conftest import Synth

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def test_browsers_connect_and_subscribe_with_cognito_and_only_iam_may_publish(synth: Synth) -> None:
    config = _one(synth, "AWS::AppSync::Api")["EventConfig"]
    providers = {p["AuthType"]: p for p in config["AuthProviders"]}
    assert set(providers) == {"AMAZON_COGNITO_USER_POOLS", "AWS_IAM"}  # no API key, nothing anonymous
    pool = providers["AMAZON_COGNITO_USER_POOLS"]["CognitoConfig"]["UserPoolId"]
    assert pool == {"Ref": synth.logical_id(synth.stack.auth.user_pool)}  # the dashboard's own users
    assert config["ConnectionAuthModes"] == [{"AuthType": "AMAZON_COGNITO_USER_POOLS"}]
    assert config["DefaultSubscribeAuthModes"] == [{"AuthType": "AMAZON_COGNITO_USER_POOLS"}]
    assert config["DefaultPublishAuthModes"] == [{"AuthType": "AWS_IAM"}]
    assert _one(synth, "AWS::AppSync::ChannelNamespace")["Name"] == "live"


def _publishers(synth: Synth) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for name, _fn in synth.stack.functions:
        for statement in _statements(synth, name):
            if "appsync" in json.dumps(statement["Action"]):
                found.setdefault(name, []).append(statement)
    return found


def test_only_the_metrics_function_may_publish_and_only_to_the_live_namespace(synth: Synth) -> None:
    publishers = _publishers(synth)
    assert set(publishers) == {"metrics"}
    (statement,) = publishers["metrics"]
    assert statement["Action"] == "appsync:EventPublish"
    resource = json.dumps(statement["Resource"])
    assert resource.endswith('"/channelNamespace/live"]]}') and "*" not in resource


def test_config_json_names_the_realtime_endpoint_and_the_csp_allows_it(synth: Synth) -> None:
    config, values = _config_json(synth)
    assert values[config["live"]["events"]][0].endswith("wss://")  # after the JSON string's quote
    assert config["live"]["channel"] == "/live/changes"
    api = synth.logical_id(synth.stack.live.api)
    assert {"Fn::GetAtt": [api, "Dns.Realtime"]} in values[config["live"]["events"]]
    headers = _one(synth, "AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]
    csp = json.dumps(headers["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    assert "wss://*.appsync-realtime-api." in csp


def test_the_metrics_function_is_told_where_to_publish(synth: Synth) -> None:
    metrics = synth.logical_id(synth.stack.functions.metrics)
    env = synth.resources("AWS::Lambda::Function")[metrics]["Properties"]["Environment"]["Variables"]
    url = json.dumps(env["VIGIL_LIVE_EVENTS_URL"])
    assert "https://" in url and "Dns.Http" in url and "/event" in url
