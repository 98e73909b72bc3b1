"""The static dashboard: a private S3 bucket behind CloudFront (origin access control, HTTPS only,
security headers, SPA-friendly errors), the built `frontend/dist` deployed by BucketDeployment, and a
generated `config.json` (API URL, Cognito ids) so one dashboard build serves every stack.

`SiteHosting` is created first (its URL feeds CORS, the Cognito callback and notification links);
`deploy_content` runs last, once the API and user pool exist.

Imports nothing from `vigil/` but `vigil.security_headers` (standard library only): the one definition
of the security headers, shared with the local server.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Annotations, Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra.acknowledge import acknowledge
from infra.build_layer import ROOT
from infra.settings import Settings
from vigil import security_headers

DIST_DIR = ROOT / "frontend" / "dist"
# The public status page's objects (`vigil.services.status_page.HTML_KEY`/`JSON_KEY`; a test keeps the
# two in step): `/status` and `/status.json` on the dashboard's domain.
STATUS_PAGE_KEYS = ("status", "status.json")
SERVICE_WORKER = "sw.js"  # the dashboard's service worker (frontend/sw.js)
PLACEHOLDER_HTML = (
    "<!doctype html><meta charset=utf-8><title>Vigil</title>"
    "<p>The dashboard was not built before this deploy. Run <code>npm ci && npm run build</code> in "
    "<code>frontend/</code>, then <code>npx cdk deploy</code> again.</p>"
)


def content_security_policy() -> str:
    """The shared policy (`vigil.security_headers`) with API calls to API Gateway and Cognito, and the
    pushed updates' WebSocket to AppSync Events (`infra/live.py`).

    Wildcard hosts keep CloudFront independent of the API (the API's CORS already names CloudFront,
    so naming the API here would make a dependency cycle)."""
    region = Aws.REGION
    cognito_auth = f"https://*.auth.{region}.amazoncognito.com"
    return security_headers.content_security_policy(
        connect_src=[
            f"https://*.execute-api.{region}.amazonaws.com",
            cognito_auth,
            f"https://cognito-idp.{region}.amazonaws.com",
            f"wss://*.appsync-realtime-api.{region}.amazonaws.com",
        ],
        form_action=[cognito_auth],
    )


def _member(header_value: str) -> str:
    """A shared header value as the CDK enum member's name ("strict-origin-when-cross-origin" →
    STRICT_ORIGIN_WHEN_CROSS_ORIGIN)."""
    return header_value.upper().replace("-", "_")


class SiteHosting(Construct):
    """Bucket + distribution. `url` is the dashboard's public https URL (no trailing slash)."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        destroy = not settings.keeps_data
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.DESTROY if destroy else RemovalPolicy.RETAIN,
            auto_delete_objects=destroy,  # the bucket only holds the rebuilt dashboard
        )
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "Holds only the public, rebuildable dashboard files; reads are logged by CloudFront metrics "
            "and object writes by CloudTrail, so S3 server access logs would add cost without insight.",
        )
        headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="Vigil dashboard security headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(), override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption[_member(security_headers.FRAME_OPTIONS)],
                    override=True,
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy[
                        _member(security_headers.REFERRER_POLICY)
                    ],
                    override=True,
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.seconds(security_headers.HSTS_MAX_AGE_SECONDS),
                    include_subdomains=True,
                    override=True,
                ),
                xss_protection=cloudfront.ResponseHeadersXSSProtection(
                    protection=True, mode_block=True, override=True
                ),
            ),
        )
        certificate = (
            acm.Certificate.from_certificate_arn(self, "Certificate", settings.certificate_arn)
            if settings.certificate_arn
            else None
        )
        # A client-side router owns every path: S3 answers 403 (no ListBucket) or 404 for them, and
        # both become index.html with 200 so deep links and reloads work.
        spa_errors = [
            cloudfront.ErrorResponse(
                http_status=status,
                response_http_status=200,
                response_page_path="/index.html",
                ttl=Duration.seconds(10),
            )
            for status in (403, 404)
        ]
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Vigil dashboard",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
                compress=True,
            ),
            error_responses=spa_errors,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            domain_names=[settings.domain_name] if settings.domain_name else None,
            certificate=certificate,
            # Only a custom certificate can raise the TLS floor (the default one is fixed at TLSv1).
            minimum_protocol_version=(
                cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if certificate else None
            ),
        )
        self._acknowledge_distribution(has_certificate=certificate is not None)
        self.url = (
            f"https://{settings.domain_name}"
            if settings.domain_name
            else f"https://{self.distribution.distribution_domain_name}"
        )

    def _acknowledge_distribution(self, *, has_certificate: bool) -> None:
        d = self.distribution
        acknowledge(d, "AwsSolutions-CFR1", "A team dashboard behind sign-in; no geographic restriction.")
        acknowledge(
            d,
            "AwsSolutions-CFR2",
            "AWS WAF costs at least ~US$6/month per web ACL, more than the whole stack; the site is "
            "static files and all data access goes through the authenticated API.",
        )
        acknowledge(
            d,
            "AwsSolutions-CFR3",
            "Standard logs need an ACL-enabled log bucket; CloudFront's built-in metrics cover "
            "a static dashboard, and every data request is access-logged at the API.",
        )
        if not has_certificate:
            acknowledge(
                d,
                "AwsSolutions-CFR4",
                "Without a custom domain CloudFront serves its default *.cloudfront.net certificate, "
                "whose TLS policy cannot be changed; set domainName + certificateArn for TLS 1.2+.",
            )

    def grant_write_status_page(self, function: lambda_.Function) -> None:
        """`s3:PutObject` on exactly the public status page's two objects (`status`, `status.json`);
        CloudFront serves them like the dashboard's files (no API, no DynamoDB behind them)."""
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects(key) for key in STATUS_PAGE_KEYS],
            )
        )

    def deploy_content(self, config: Mapping[str, object]) -> s3deploy.BucketDeployment:
        """Upload `frontend/dist` and `config.json` (deploy-time values resolved by CloudFormation)
        and invalidate the distribution so the new files are served at once."""
        if (DIST_DIR / "index.html").is_file():
            site = s3deploy.Source.asset(str(DIST_DIR))
        else:
            Annotations.of(self).add_warning_v2(
                "vigil:dashboard-not-built",
                f"{DIST_DIR} has no index.html: deploying a placeholder page. "
                "Build the dashboard (npm run build in frontend/) and deploy again.",
            )
            site = s3deploy.Source.data("index.html", PLACEHOLDER_HTML)
        deployment = s3deploy.BucketDeployment(
            self,
            "Content",
            destination_bucket=self.bucket,
            sources=[site, s3deploy.Source.json_data("config.json", dict(config))],
            distribution=self.distribution,
            distribution_paths=["/*"],
            memory_limit=256,
            # the status page is written by the alerts function (a deploy must not prune it); sw.js
            # is deployed below with its own Cache-Control
            exclude=[*STATUS_PAGE_KEYS, SERVICE_WORKER],
        )
        if (DIST_DIR / SERVICE_WORKER).is_file():
            # Always revalidated (CloudFront's cache policy honours the object's Cache-Control): a stale
            # service worker would keep serving an old shell after a deploy.
            s3deploy.BucketDeployment(
                self,
                "ServiceWorker",
                destination_bucket=self.bucket,
                sources=[site],
                include=[SERVICE_WORKER],
                exclude=["*"],
                prune=False,
                cache_control=[s3deploy.CacheControl.no_cache()],
                memory_limit=256,
            )
        bucket_id = Stack.of(self).get_logical_id(self.bucket.node.default_child)  # type: ignore[arg-type]
        _acknowledge_deployment_helper(self, bucket_id)
        return deployment


def _acknowledge_deployment_helper(scope: Construct, bucket_logical_id: str) -> None:
    """BucketDeployment's singleton Lambda (a stack-level child CDK creates and owns) copies the
    asset into this bucket and invalidates the distribution. Its runtime, managed policy and
    wildcard actions are CDK's; the resources are this bucket and the CDK asset bucket."""
    stack = Stack.of(scope)
    for child in stack.node.children:
        if child.node.id.startswith("Custom::CDKBucketDeployment"):
            for finding in (
                *_DEPLOYMENT_HELPER_FINDINGS,
                f"AwsSolutions-IAM5[Resource::<{bucket_logical_id}.Arn>/*]",
            ):
                acknowledge(
                    child,
                    finding,
                    "CDK's BucketDeployment helper: CDK generates its code, runtime and policy; "
                    "the actions are limited to this site bucket, the CDK asset bucket and "
                    "CloudFront invalidations (which have no resource-level permissions).",
                )


_DEPLOYMENT_HELPER_FINDINGS = (
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
    "AwsSolutions-L1",
    "AwsSolutions-IAM5[Resource::*]",
    "AwsSolutions-IAM5[Action::s3:GetObject*]",
    "AwsSolutions-IAM5[Action::s3:GetBucket*]",
    "AwsSolutions-IAM5[Action::s3:List*]",
    "AwsSolutions-IAM5[Action::s3:DeleteObject*]",
    "AwsSolutions-IAM5[Action::s3:Abort*]",
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]",
)
