"""Pushed dashboard updates in AWS: an AppSync Events API with one channel namespace, `live`.

Browsers subscribe to `/live/changes` with their Cognito token (user-pool auth on connect and
subscribe; the token travels in the WebSocket subprotocol header, never in the URL); the metrics
function publishes the compact "what changed" message with IAM auth (`appsync:EventPublish` on this
namespace only). Chosen over an API Gateway WebSocket API, which would need a connections table, a
$connect authorizer function and a fan-out loop in ingest (docs/architecture.md, "Pushed updates").
"""

from __future__ import annotations

from aws_cdk import aws_appsync as appsync
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

NAMESPACE = "live"
CHANNEL = f"/{NAMESPACE}/changes"


class LiveEvents(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, user_pool: cognito.IUserPool) -> None:
        super().__init__(scope, construct_id)
        pool = appsync.AppSyncAuthorizationType.USER_POOL
        iam_auth = appsync.AppSyncAuthorizationType.IAM
        cognito_config = appsync.AppSyncCognitoConfig(user_pool=user_pool)
        self.api = appsync.EventApi(
            self,
            "Api",
            api_name="vigil-live",
            authorization_config=appsync.EventApiAuthConfig(
                auth_providers=[
                    appsync.AppSyncAuthProvider(authorization_type=pool, cognito_config=cognito_config),
                    appsync.AppSyncAuthProvider(authorization_type=iam_auth),
                ],
                connection_auth_mode_types=[pool],
                default_subscribe_auth_mode_types=[pool],
                default_publish_auth_mode_types=[iam_auth],
            ),
        )
        self.namespace = self.api.add_channel_namespace(NAMESPACE)

    @property
    def http_url(self) -> str:
        return f"https://{self.api.http_dns}/event"

    @property
    def realtime_url(self) -> str:
        return f"wss://{self.api.realtime_dns}/event/realtime"

    def grant_publish(self, function: lambda_.Function) -> None:
        """`appsync:EventPublish` on this API's `live` namespace, nothing else."""
        self.namespace.grant_publish(function)
        function.add_environment("VIGIL_LIVE_EVENTS_URL", self.http_url)
