"""Composes Vigil's constructs into one stack, and holds the least-privilege matrix (which function
may touch which table, topic and key) and the stack outputs the deploy guide names.

`build_app(context)` is the single entry point for `app.py` and the tests, so both synthesize exactly
the same app, with cdk-nag's AwsSolutions pack as a validation plugin (any unacknowledged error fails
synth). Must not import anything from `vigil/` except the route table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import App, Aws, CfnOutput, Stack, Validations
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from infra.acknowledge import acknowledge
from infra.alerting import Alerting
from infra.api import HttpApi, add_ingest_function_url, url_without_slash
from infra.auth import Auth
from infra.functions import SPECS, VigilFunctions
from infra.live import CHANNEL, LiveEvents
from infra.packaging import SharedLayer
from infra.self_monitoring import SelfMonitoring
from infra.settings import Settings
from infra.site import SiteHosting
from infra.storage import Storage

# Output names are part of the deploy guide's contract (docs/deploy.md; tests/infra checks both).
OUTPUTS = (
    "ApiUrl",
    "IngestUrl",
    "IngestFunctionUrl",
    "DashboardUrl",
    "UserPoolId",
    "UserPoolClientId",
    "CognitoDomain",
    "AlertsTopicArn",
    "DlqUrl",
    "ChannelKeyArn",
    "OpsTopicArn",
    "OpsDashboardName",
)


# What the stores call (vigil/adapters/store/dynamodb*.py). Transactions and batches are authorised per
# item as PutItem/UpdateItem; the samples table also holds traces, whose index items are replaced.
SAMPLES_WRITER = (
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
)
META_WRITER = (
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)


# The jobs function's (fleet tier, rollups, cost readout): it reads raw chunks and rollups and writes
# rollup and fleet items in batches (samples); it reads hosts and documents, writes its watermarks and
# progress (documents are written with UpdateItem), and deletes the late-sample markers it honoured
# (meta). No PutItem: nothing of the jobs calls it.
JOBS_SAMPLES = ("dynamodb:Query", "dynamodb:BatchWriteItem")
JOBS_META = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:DeleteItem")

# The alerts function's samples-table actions: the evaluator's Query plus what the ingest path of the
# synthetic checks' results calls (no DeleteItem: it removes nothing).
CHECK_SAMPLES_WRITER = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:BatchWriteItem")


def stack_name(settings: Settings) -> str:
    return f"Vigil-{settings.stage}"


class VigilStack(Stack):
    """Everything one Vigil deployment needs, in one stack."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings
        storage = Storage(self, "Storage", settings=settings)
        site = SiteHosting(self, "Site", settings=settings)
        alerting = Alerting(self, "Alerting", settings=settings)
        layer = SharedLayer(self, "Shared")
        self.layer = layer.layer
        functions = VigilFunctions(
            self,
            "Functions",
            settings=settings,
            layer=layer.layer,
            environment={
                **storage.environment(),
                **alerting.environment(),
                **settings.function_environment(),
                "VIGIL_AUTH_MODE": "cognito",
                "VIGIL_PUBLIC_URL": site.url,
            },
        )
        functions.alerts.add_environment("VIGIL_STATUS_BUCKET", site.bucket.bucket_name)
        self.functions = functions

        # Least privilege, one role per function (SPEC §8):
        #   metrics: ingest + queries -> read/write both tables
        #   jobs:    the metrics code on EventBridge's schedule: fleet tier and rollups -> reads raw
        #            chunks, writes rollup/fleet items (samples), reads/writes its state docs (meta);
        #            the hourly cost job reads CloudWatch metrics (GetMetricData, Resource * by
        #            necessity) and the tables' sizes (DescribeTable) — see grant_cost_readout
        #   health:  GetItem on two meta items (PING, FRESH), whatever the fleet size
        #   alerts:  reads samples and writes synthetic-check results into them (the ingest path),
        #            writes the public status page's two files to the site bucket (nothing else there),
        #            keeps rules/state/history in meta, publishes state changes and
        #            e-mail/SMS channel tests to the topic (only there), seals and opens channel secrets
        #            with the KMS key (writes, "send test"), subscribes e-mail/SMS channels, reads and
        #            deletes dead letters (DLQ); seals Web Push subscriptions, creates the VAPID key
        #   notify:  inbox + delivery records + dead letters in meta, opens channel secrets
        #            (kms:Decrypt); no SNS publish: e-mail and SMS are native topic subscriptions;
        #            Web Push: lists subscriptions (Query), deletes one its push service says is gone,
        #            opens their keys and the VAPID private key (kms:Decrypt)
        # Exact DynamoDB actions, not CDK's read/write bundles (no Scan, BatchGetItem, ConditionCheckItem
        # or stream reads: nothing calls them). tests/infra/test_deployed_functions.py
        # runs every function against moto and checks each call against these statements.
        storage.samples.grant(functions.metrics, *SAMPLES_WRITER)
        storage.meta.grant(functions.metrics, *META_WRITER)
        storage.samples.grant(functions.jobs, *JOBS_SAMPLES)
        storage.meta.grant(functions.jobs, *JOBS_META)
        storage.meta.grant(functions.health, "dynamodb:GetItem")  # PING and FRESH: O(1) whatever the fleet
        storage.samples.grant(functions.alerts, *CHECK_SAMPLES_WRITER)  # evaluator reads, check results
        storage.meta.grant(functions.alerts, *META_WRITER)
        site.grant_write_status_page(functions.alerts)
        alerting.grant_publish(functions.alerts)
        acknowledge(
            functions.alerts.role or functions.alerts,
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "Publishing to the KMS-encrypted topic needs GenerateDataKey and its variants, on the "
            "topic's one key ARN only; CDK's topic grant expresses that family as GenerateDataKey*.",
        )
        alerting.grant_seal_channel_secrets(functions.alerts)
        alerting.grant_manage_subscriptions(functions.alerts)  # e-mail/SMS channels -> topic subscriptions
        alerting.grant_read_dead_letters(functions.alerts)
        # docs: get/put; Web Push: list the subscriptions, delete one that is gone (404/410)
        notify_meta = ("dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:DeleteItem")
        storage.meta.grant(functions.notify, *notify_meta)
        alerting.grant_open_channel_secrets(functions.notify)
        alerting.connect(evaluator=functions.alerts, notifier=functions.notify, jobs=functions.jobs)

        origins = [site.url, *settings.allowed_origins]
        auth = Auth(self, "Auth", settings=settings, callback_origins=origins)
        self.auth = auth
        self.site = site
        self.storage = storage
        self.alerting = alerting
        api = HttpApi(
            self,
            "Http",
            settings=settings,
            functions=dict(functions),
            user_pool=auth.user_pool,
            user_pool_client=auth.client,
            cors_origins=origins,
        )
        self.api = api
        self.ingest_url = add_ingest_function_url(functions.metrics)
        grant_cost_readout(functions, storage, api)
        live = LiveEvents(self, "Live", user_pool=auth.user_pool)
        live.grant_publish(functions.metrics)  # ingest publishes what changed
        self.live = live
        site.deploy_content(dashboard_config(api.api.api_endpoint, auth, live))
        monitoring = SelfMonitoring(
            self,
            "SelfMonitoring",
            settings=settings,
            key=alerting.key,
            functions=[*functions, ("jobs", functions.jobs)],
            api=api.api,
            tables=[storage.samples, storage.meta],
            dead_letter_queue=alerting.dead_letter_queue,
        )
        self._outputs(
            ApiUrl=(api.api.api_endpoint, "HTTP API base URL (the dashboard's config.json apiUrl)"),
            IngestUrl=(api.api.api_endpoint, "The HTTP API's URL for agents and OTLP exporters"),
            IngestFunctionUrl=(
                url_without_slash(self.ingest_url.url),
                "Recommended for `vigil agent --url` and OTLP exporters: ingest routes only, no API "
                "Gateway charge",
            ),
            DashboardUrl=(site.url, "Open this in a browser"),
            UserPoolId=(auth.user_pool.user_pool_id, "Cognito user pool (admin-create-user)"),
            UserPoolClientId=(auth.client.user_pool_client_id, "Dashboard app client id"),
            CognitoDomain=(auth.domain_url, "Hosted sign-in base URL"),
            AlertsTopicArn=(alerting.topic.topic_arn, "SNS topic the evaluator publishes to"),
            DlqUrl=(alerting.dead_letter_queue.queue_url, "Undeliverable notifications land here"),
            ChannelKeyArn=(alerting.key.key_arn, "KMS key sealing channel secrets (and the topics)"),
            OpsTopicArn=(monitoring.topic.topic_arn, "Vigil's own alarms"),
            OpsDashboardName=(monitoring.dashboard.dashboard_name, "CloudWatch dashboard for Vigil"),
        )

    def _outputs(self, **outputs: tuple[str, str]) -> None:
        assert tuple(outputs) == OUTPUTS, "keep OUTPUTS (the deploy guide's names) in sync"
        for name, (value, description) in outputs.items():
            CfnOutput(self, name, value=value, description=description)


def grant_cost_readout(functions: VigilFunctions, storage: Storage, api: HttpApi) -> None:
    """The jobs function's hourly cost job reads this deployment's usage for `GET /api/cost`: the
    CloudWatch metrics AWS publishes for the functions, the API, the tables, the topic and the log
    groups (GetMetricData), and the tables' sizes (DescribeTable: no CloudWatch metric carries them)."""
    jobs = functions.jobs  # it knows its own name (AWS_LAMBDA_FUNCTION_NAME); it lists the others
    others = ",".join(f"{fn.function_name}={SPECS[name].memory_mb}" for name, fn in functions)
    jobs.add_environment("VIGIL_COST_FUNCTIONS", others)
    jobs.add_environment("VIGIL_COST_API_ID", api.api.api_id)
    jobs.add_environment(
        "VIGIL_COST_LOG_GROUPS", ",".join(group.log_group_name for group in functions.log_groups.values())
    )
    # GetMetricData has no resource type: IAM accepts only "*" for it (it reads metrics, never writes).
    jobs.add_to_role_policy(iam.PolicyStatement(actions=["cloudwatch:GetMetricData"], resources=["*"]))
    acknowledge(
        jobs.role or jobs,
        "AwsSolutions-IAM5[Resource::*]",
        "cloudwatch:GetMetricData supports no resource-level permissions, so IAM only accepts Resource *; "
        "it is read-only and granted to the jobs function alone for the hourly cost readout.",
    )
    storage.samples.grant(jobs, "dynamodb:DescribeTable")
    storage.meta.grant(jobs, "dynamodb:DescribeTable")


def dashboard_config(api_url: str, auth: Auth, live: LiveEvents) -> Mapping[str, object]:
    """`config.json` for the static dashboard: everything that differs between stacks."""
    return {
        "apiUrl": api_url,
        "live": {"events": live.realtime_url, "host": live.api.http_dns, "channel": CHANNEL},
        "auth": {
            "mode": "cognito",
            "region": Aws.REGION,
            "userPoolId": auth.user_pool.user_pool_id,
            "clientId": auth.client.user_pool_client_id,
            "domain": auth.domain_url,
            "authority": auth.issuer_url,
            "scopes": "openid email profile",
        },
    }


def build_app(
    context: Mapping[str, object] | None = None, *, outdir: str | None = None
) -> tuple[App, VigilStack]:
    """The CDK app: one `Vigil-<stage>` stack, checked by cdk-nag's AwsSolutions pack.

    Raises:
        ValueError: invalid context (see infra/settings.py).
        infra.packaging.LayerNotBuiltError: `make layer` has not been run.
    """
    app = App(context=dict(context) if context is not None else None, outdir=outdir)
    settings = Settings.from_context(app.node.try_get_context)
    stack = VigilStack(
        app,
        stack_name(settings),
        settings=settings,
        description=f"Vigil performance monitor ({settings.stage})",
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack
