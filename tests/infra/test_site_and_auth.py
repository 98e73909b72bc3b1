"""Dashboard hosting (private bucket, CloudFront + OAC, headers), its config.json, and Cognito."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.infra.conftest import Synth

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def _one(synth: Synth, type_: str) -> dict[str, Any]:
    (resource,) = synth.resources(type_).values()
    return resource["Properties"]


def test_site_bucket_blocks_public_access_and_requires_tls(synth: Synth) -> None:
    bucket_id = synth.logical_id(synth.stack.site.bucket)
    props = synth.raw["Resources"][bucket_id]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ] == {"SSEAlgorithm": "AES256"}
    policy = _one(synth, "AWS::S3::BucketPolicy")["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in policy
    )
    readers = [s for s in policy if s["Effect"] == "Allow" and s["Action"] == "s3:GetObject"]
    assert readers and all(s["Principal"] == {"Service": "cloudfront.amazonaws.com"} for s in readers)
    assert all("AWS:SourceArn" in json.dumps(s["Condition"]) for s in readers)


def test_cloudfront_reads_the_bucket_through_origin_access_control_over_https(synth: Synth) -> None:
    config = _one(synth, "AWS::CloudFront::Distribution")["DistributionConfig"]
    (origin,) = config["Origins"]
    (oac_id,) = synth.resources("AWS::CloudFront::OriginAccessControl")
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert (
        _one(synth, "AWS::CloudFront::OriginAccessControl")["OriginAccessControlConfig"]["SigningBehavior"]
        == "always"
    )
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert "ResponseHeadersPolicyId" in behavior
    assert config["DefaultRootObject"] == "index.html"


def test_unknown_paths_fall_back_to_index_html_for_the_spa(synth: Synth) -> None:
    errors = _one(synth, "AWS::CloudFront::Distribution")["DistributionConfig"]["CustomErrorResponses"]
    assert {(e["ErrorCode"], e["ResponseCode"], e["ResponsePagePath"]) for e in errors} == {
        (403, 200, "/index.html"),
        (404, 200, "/index.html"),
    }


def test_security_headers_deny_framing_and_pin_scripts_to_the_site(synth: Synth) -> None:
    headers = _one(synth, "AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]
    security = headers["SecurityHeadersConfig"]
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] == 365 * 86400
    csp = json.dumps(security["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "execute-api" in csp


def test_cloudfront_sends_the_security_headers_the_local_server_sends(synth: Synth) -> None:
    from vigil.security_headers import local_headers

    local = dict(local_headers())
    security = _one(synth, "AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"][
        "SecurityHeadersConfig"
    ]
    assert security["FrameOptions"]["FrameOption"] == local["X-Frame-Options"]
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == local["Referrer-Policy"]
    assert security["ContentTypeOptions"]["Override"] is True  # nosniff
    cloud = json.dumps(security["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    for directive in local["Content-Security-Policy"].split("; "):
        # AWS adds API Gateway and Cognito hosts to these two; every other directive is the same text
        if not directive.startswith(("connect-src", "form-action")):
            assert directive in cloud, directive


def _deployments(synth: Synth) -> dict[str, dict[str, Any]]:
    """The dashboard's BucketDeployments by construct id ("Content", "ServiceWorker")."""
    found = {}
    for logical_id, resource in synth.resources("Custom::CDKBucketDeployment").items():
        name = "ServiceWorker" if logical_id.startswith("SiteServiceWorker") else "Content"
        found[name] = resource["Properties"]
    return found


def _config_json(synth: Synth) -> tuple[dict[str, Any], dict[str, Any]]:
    """config.json as deployed, with each deploy-time value replaced by the CloudFormation expression."""
    deployment = _deployments(synth)["Content"]
    (text,) = [p.read_text() for p in synth.outdir.glob("asset.*/config.json")]
    markers: dict[str, Any] = {}
    for source_markers in deployment["SourceMarkers"]:
        markers.update(source_markers)
    assert set(re.findall(r"<<marker:0xbaba:\d+>>", text)) == set(markers)
    placeholders = {m: f'"@{i}"' for i, m in enumerate(markers)}
    for marker, placeholder in placeholders.items():
        text = text.replace(marker, placeholder)
    resolved = {f"@{i}": markers[m]["Fn::Join"][1] for i, m in enumerate(markers)}
    return json.loads(text), resolved


def test_config_json_points_the_dashboard_at_this_stacks_api_and_user_pool(synth: Synth) -> None:
    config, values = _config_json(synth)
    assert config["auth"]["mode"] == "cognito"
    assert set(config) == {"apiUrl", "auth", "live"}
    assert set(config["auth"]) == {
        "mode",
        "region",
        "userPoolId",
        "clientId",
        "domain",
        "authority",
        "scopes",
    }
    api_id = synth.logical_id(synth.stack.api.api)
    assert {"Fn::GetAtt": [api_id, "ApiEndpoint"]} in values[config["apiUrl"]]
    assert {"Ref": synth.logical_id(synth.stack.auth.user_pool)} in values[config["auth"]["userPoolId"]]
    assert {"Ref": synth.logical_id(synth.stack.auth.client)} in values[config["auth"]["clientId"]]
    assert {"Ref": "AWS::Region"} in values[config["auth"]["region"]]
    assert ".amazoncognito.com" in json.dumps(values[config["auth"]["domain"]])


def test_dashboard_deployment_invalidates_cloudfront(synth: Synth) -> None:
    deployment = _deployments(synth)["Content"]
    assert deployment["DistributionId"] == {"Ref": synth.logical_id(synth.stack.site.distribution)}
    assert deployment["DistributionPaths"] == ["/*"]


def test_the_service_worker_is_deployed_alone_with_no_cache_and_never_pruned(synth: Synth) -> None:
    deployments = _deployments(synth)
    assert "sw.js" in deployments["Content"]["Exclude"]  # so the content deployment leaves it alone
    worker = deployments["ServiceWorker"]
    assert worker["Include"] == ["sw.js"] and worker["Exclude"] == ["*"]
    assert worker["Prune"] is False
    assert worker["SystemMetadata"]["cache-control"] == "no-cache"


def test_the_csp_lets_the_dashboard_run_its_service_worker_and_manifest(synth: Synth) -> None:
    headers = _one(synth, "AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]
    csp = json.dumps(headers["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    assert "worker-src 'self'" in csp and "manifest-src 'self'" in csp


def test_user_pool_has_strong_passwords_optional_mfa_and_no_self_sign_up(synth: Synth) -> None:
    pool = _one(synth, "AWS::Cognito::UserPool")
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(
        policy[k] for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols")
    )
    assert pool["MfaConfiguration"] == "OPTIONAL"
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True


def test_user_pool_has_admin_and_viewer_groups(synth: Synth) -> None:
    groups = {g["Properties"]["GroupName"] for g in synth.resources("AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"admin", "viewer"}


def test_dashboard_client_uses_code_flow_without_secret_and_returns_to_cloudfront(synth: Synth) -> None:
    client = _one(synth, "AWS::Cognito::UserPoolClient")
    assert client["GenerateSecret"] is False
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    callbacks = client["CallbackURLs"]
    distribution = synth.logical_id(synth.stack.site.distribution)
    assert callbacks[0] == {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution, "DomainName"]}, "/"]]}
    assert callbacks[1:] == ["http://localhost:5173/"]
    assert client["LogoutURLs"] == callbacks
