"""The one HTTP API (API Gateway v2), built route by route from `vigil.api.route_table.ROUTE_TABLE`
so AWS and local mode route identically.

Every path is bound with method ANY (the function answers 405 itself). Authorization per binding:
  - `user`   -> the Cognito JWT authorizer (API Gateway rejects a missing/invalid token before Lambda);
  - `public` -> none (`/health`, `/openapi.json`);
  - `ingest` -> none at API Gateway: the metrics handler checks `Authorization: Bearer <key>` itself.
    Ingest keys are minted at run time (`POST /api/keys`) and stored hashed in DynamoDB; the handler
    keeps a warm per-container cache of verified hashes. That is cheaper and simpler than a Lambda
    authorizer (no second function, no extra invocation per uncached request, no authorizer cache
    keyed on the raw key) and keys work the moment they are created, without a redeploy.
CORS preflight (OPTIONS) is answered by API Gateway itself, for the dashboard's origin only.

`IngestFunctionUrl` is a second way in for agents and collectors: the metrics function's Lambda
Function URL (payload 2.0, the same event shape), which costs no API Gateway request (US$1.00 per
million: 0.043 of a host's US$0.10 month). Its auth type is NONE, acceptable only because every route
behind it authenticates in the handler: `vigil.api.app` serves only ingest routes through it (each
checks the Bearer ingest key) and answers 404 for every other path, so `/api/*` stays behind the
Cognito authorizer and the stage's throttling. It has no throttle of its own: the function's
concurrency bounds it (docs/deploy.md, "Ingest endpoint").

Only `vigil.api.route_table` (standard library) is imported from `vigil/`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import jsii
from aws_cdk import Duration, Fn, RemovalPolicy
from aws_cdk import aws_apigateway as apigw_v1
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.acknowledge import acknowledge
from infra.functions import log_retention
from infra.settings import Settings
from vigil.api.pages import NEXT_CURSOR_HEADER
from vigil.api.route_table import ROUTE_TABLE, FunctionName, RouteBinding

# Headers the dashboard and scripts send: auth, JSON bodies, retried batches, conditional refresh.
CORS_HEADERS = ["authorization", "content-type", "idempotency-key", "if-none-match", "if-modified-since"]
# the dashboard reads ETags (304s), download names and the next page of a bare-array list
CORS_EXPOSED = ["etag", "last-modified", "content-disposition", NEXT_CURSOR_HEADER.lower()]
CORS_METHODS = [
    apigw.CorsHttpMethod.GET,
    apigw.CorsHttpMethod.HEAD,
    apigw.CorsHttpMethod.POST,
    apigw.CorsHttpMethod.PUT,
    apigw.CorsHttpMethod.PATCH,
    apigw.CorsHttpMethod.DELETE,
]

_OPEN_ROUTE_REASONS = {
    "public": "Public by design (SPEC 4): uptime checkers call /health and tools read /openapi.json "
    "without credentials; neither returns data or secrets.",
    "ingest": "Ingest keys are minted at run time and stored hashed in DynamoDB; the metrics handler "
    "verifies the Bearer key on every request (warm cache), so no API Gateway authorizer is used.",
}


def route_id(binding: RouteBinding) -> str:
    """A stable construct id for a route path: `/api/alerts/{proxy+}` -> `ApiAlertsProxy`."""
    words = binding.path.replace("{proxy+}", "proxy").replace(".", "-").strip("/").replace("-", "/")
    return "".join(part[:1].upper() + part[1:] for part in words.split("/") if part) or "Root"


class HttpApi(Construct):
    """The API, its default stage (throttling, JSON access logs) and one route per binding."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        functions: Mapping[FunctionName, lambda_.IFunction],
        user_pool: cognito.IUserPool,
        user_pool_client: cognito.IUserPoolClient,
        cors_origins: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigw.HttpApi(
            self,
            "Api",
            description="Vigil ingest and query API",
            create_default_stage=False,
            cors_preflight=apigw.CorsPreflightOptions(
                allow_origins=list(cors_origins),
                allow_methods=CORS_METHODS,
                allow_headers=CORS_HEADERS,
                expose_headers=CORS_EXPOSED,
                max_age=Duration.hours(1),
            ),
        )
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention(settings.log_retention_days),
            removal_policy=RemovalPolicy.RETAIN if settings.keeps_data else RemovalPolicy.DESTROY,
        )
        self.stage = apigw.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(
                rate_limit=settings.api_throttle_rate, burst_limit=settings.api_throttle_burst
            ),
            access_log_settings=_AccessLogs(self.access_logs),
        )
        self.authorizer = authorizers.HttpUserPoolAuthorizer(
            "CognitoAuthorizer",
            user_pool,
            user_pool_clients=[user_pool_client],
            identity_source=["$request.header.Authorization"],
        )
        self._integrations = {
            name: integrations.HttpLambdaIntegration(f"{name.capitalize()}Integration", fn)
            for name, fn in functions.items()
        }
        self.routes: dict[str, apigw.HttpRoute] = {}
        for binding in ROUTE_TABLE:
            self.routes[binding.path] = apigw.HttpRoute(
                self,
                route_id(binding),
                http_api=self.api,
                route_key=apigw.HttpRouteKey.with_(binding.path, apigw.HttpMethod.ANY),
                integration=self._integrations[binding.function],
                authorizer=self.authorizer if binding.auth == "user" else apigw.HttpNoneAuthorizer(),
            )
            if binding.auth != "user":
                acknowledge(
                    self.routes[binding.path], "AwsSolutions-APIG4", _OPEN_ROUTE_REASONS[binding.auth]
                )

    @property
    def url(self) -> str:
        """https://<id>.execute-api.<region>.amazonaws.com/ (the $default stage has no path)."""
        url = self.stage.url
        assert url is not None
        return url


def add_ingest_function_url(function: lambda_.Function) -> lambda_.FunctionUrl:
    """The metrics function's URL (auth NONE, see the module docstring). CDK grants the public both
    permissions a URL has needed since October 2025: `lambda:InvokeFunctionUrl` (condition
    `FunctionUrlAuthType: NONE`) and `lambda:InvokeFunction` only through the URL
    (`InvokedViaFunctionUrl`); tests/infra/test_api_routes.py checks both."""
    return function.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)


def url_without_slash(url: str) -> str:
    """`https://<id>.lambda-url.<region>.on.aws/` -> `https://<id>.lambda-url.<region>.on.aws`, the shape
    of `ApiUrl`: OTLP exporters append `/v1/metrics` to the endpoint as given."""
    return Fn.join("", ["https://", Fn.select(2, Fn.split("/", url))])


@jsii.implements(apigw.IAccessLogSettings)
class _AccessLogs:
    """`IAccessLogSettings`: one JSON object per request with the fields worth searching."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigw.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigw.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw_v1.AccessLogFormat:
        return apigw_v1.AccessLogFormat.custom(
            '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
            '"time":"$context.requestTime","method":"$context.httpMethod","path":"$context.path",'
            '"routeKey":"$context.routeKey","status":"$context.status",'
            '"latencyMs":"$context.responseLatency","integrationError":"$context.integrationErrorMessage",'
            '"authorizerError":"$context.authorizer.error","userAgent":"$context.identity.userAgent"}'
        )
