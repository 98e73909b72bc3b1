"""Alert fan-out and schedules: the KMS-encrypted SNS alerts topic with e-mail/SMS subscriptions from
context, the notify function subscribed to it with an SQS dead-letter queue for deliveries that still
fail after retries, the KMS key (topics, and channel secrets sealed in the meta table), and the
EventBridge schedules: the evaluator every minute, and hourly for the hourly rules (forecasts over
settled rollups, in an invocation of their own so the minute tick reads each host once;
`vigil.alerting.entry.scheduled_evaluation`); every 5 minutes the jobs function, once for the fleet
tier and the cost readout and once per rollup shard, all at once (the rollups run on the hour's first
run of each shard; `vigil.api.scheduled`).

Routing (SPEC §5): the evaluator publishes each state change once with message attributes `severity`
(info | warning | critical), `kind` and `channels`; subscription filter policies route it:
  - e-mail (alertEmails): every alert;
  - SMS (alertPhoneNumbers): severity = critical only (SMS costs money and wakes people up);
  - notify function: every alert (it delivers to the rule's Slack/Discord/webhook/inbox channels);
  - e-mail/SMS channels created through the API: their own subscriptions, filtered on the channel id.
A channel's "send test" publishes `kind = test` for that channel only, so the three subscriptions
above exclude `kind = test` (a test reaches exactly the channel being tested).

Must not import anything from `vigil/`.
"""

from __future__ import annotations

from aws_cdk import Annotations, Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.acknowledge import acknowledge
from infra.settings import Settings
from infra.sizing import (
    EVALUATION_PERIOD_SECONDS,
    HOURLY_EVALUATION_MINUTE,
    JOBS_PERIOD_MINUTES,
    ROLLUP_SHARDS,
)

SMS_SEVERITIES = ["critical"]
NOT_A_TEST = sns.SubscriptionFilter.string_filter(denylist=["test"])  # kind: a channel's "send test"
NOTIFY_RETRY_ATTEMPTS = 2  # Lambda's async retries (with its own backoff) before the DLQ
DLQ_RETENTION = Duration.days(14)  # the SQS maximum: time to notice, fix the target and redrive
# KMS encryption contexts (`vigil:field` = "<document kind>/<id>/<field>") of the sealed documents.
CHANNEL_CONTEXTS = ["channel/*", "channel_subscription/*"]
PUSH_SUBSCRIPTION_CONTEXT = "push_subscription/*"  # a browser's push endpoint and keys
VAPID_CONTEXT = "push_vapid/*"  # the Web Push (VAPID) private key
JOBS_PERIOD = Duration.minutes(JOBS_PERIOD_MINUTES)  # the rollups run on each hour's first run
TARGETS_PER_RULE = 5  # EventBridge's limit of targets on one rule


def job_inputs() -> list[dict[str, object]]:
    """The constant inputs of the jobs function's targets: the fleet tier with the cost readout, then
    one per rollup shard. Shaped like EventBridge's scheduled event, so the handler dispatches them
    as it does the default one."""
    details: list[dict[str, object]] = [{"jobs": ["fleet", "cost"]}]
    details += [{"jobs": ["rollups"], "shard": i, "shards": ROLLUP_SHARDS} for i in range(ROLLUP_SHARDS)]
    return [{"source": "aws.events", "detail-type": "Scheduled Event", "detail": d} for d in details]


def hourly_evaluation_input() -> dict[str, object]:
    """The constant input of the alerts function's hourly target: only the hourly rules
    (`vigil.alerting.entry.HOURLY_DETAIL`), shaped like EventBridge's scheduled event."""
    return {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {"evaluate": "hourly"}}


class Alerting(Construct):
    """Topic, key and DLQ. Call `connect(...)` once the functions exist."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        self._settings = settings
        removal = RemovalPolicy.RETAIN if settings.keeps_data else RemovalPolicy.DESTROY
        # A customer-managed key: SNS needs one that CloudWatch (self-monitoring alarms) may use too;
        # the AWS-managed aws/sns key cannot be shared with other services.
        self.key = kms.Key(
            self,
            "TopicKey",
            description="Vigil: encrypts the alerts and ops SNS topics and channel secrets in the meta table",
            enable_key_rotation=True,
            removal_policy=removal,
        )
        self.topic = sns.Topic(
            self, "Topic", display_name="Vigil alerts", master_key=self.key, enforce_ssl=True
        )
        self.dead_letter_queue = sqs.Queue(
            self,
            "NotifyDlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,  # SNS can write to SSE-SQS queues, not to aws/sqs KMS
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
        )
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue: the notify function's on-failure "
            "destination and the SNS subscription's redrive target (cdk-nag only recognises SQS redrive).",
        )
        if settings.channel_secret_names:
            Annotations.of(self).add_warning_v2(
                "vigil:channelSecretNames",
                "context 'channelSecretNames' is no longer used: create Slack/Discord/webhook channels "
                "in Settings -> Channels; their URLs and keys are stored encrypted with the stack's KMS key.",
            )
        for address in settings.alert_emails:
            self.topic.add_subscription(
                subscriptions.EmailSubscription(address, filter_policy={"kind": NOT_A_TEST})
            )
        for number in settings.alert_phone_numbers:
            self.topic.add_subscription(
                subscriptions.SmsSubscription(
                    number,
                    filter_policy={
                        "severity": sns.SubscriptionFilter.string_filter(allowlist=SMS_SEVERITIES),
                        "kind": NOT_A_TEST,
                    },
                )
            )

    def environment(self) -> dict[str, str]:
        return {
            "VIGIL_ALERTS_TOPIC_ARN": self.topic.topic_arn,
            "VIGIL_CHANNEL_KEY_ARN": self.key.key_arn,
            "VIGIL_EVALUATION_PERIOD": str(EVALUATION_PERIOD_SECONDS),
            "VIGIL_NOTIFY_DLQ_URL": self.dead_letter_queue.queue_url,
        }

    def connect(
        self,
        *,
        evaluator: lambda_.Function,
        notifier: lambda_.Function,
        jobs: lambda_.Function,
    ) -> None:
        """Subscribe `notifier`, give it the DLQ, and schedule `evaluator` and `jobs`."""
        # SNS invokes Lambda asynchronously: Lambda retries twice with backoff, then hands the event to
        # the DLQ. The subscription's own DLQ catches the rarer case where SNS cannot invoke at all.
        notifier.configure_async_invoke(
            retry_attempts=NOTIFY_RETRY_ATTEMPTS,
            max_event_age=Duration.hours(1),
            on_failure=destinations.SqsDestination(self.dead_letter_queue),
        )
        self.topic.add_subscription(
            subscriptions.LambdaSubscription(
                notifier, dead_letter_queue=self.dead_letter_queue, filter_policy={"kind": NOT_A_TEST}
            )
        )
        # The evaluator is idempotent per tick and runs again a minute later, so a failed run is not
        # retried (a retry could land after the next tick); events older than a tick are dropped.
        evaluator.configure_async_invoke(retry_attempts=0, max_event_age=Duration.seconds(60))
        events.Rule(
            self,
            "EvaluateEveryMinute",
            description="Vigil: evaluate alert rules (the handler dispatches on source aws.events)",
            schedule=events.Schedule.rate(Duration.seconds(EVALUATION_PERIOD_SECONDS)),
            targets=[targets.LambdaFunction(evaluator, retry_attempts=0)],
        )
        hourly = events.RuleTargetInput.from_object(hourly_evaluation_input())
        events.Rule(
            self,
            "EvaluateHourly",
            description="Vigil: evaluate the hourly alert rules (forecasts over the settled rollups)",
            schedule=events.Schedule.cron(minute=str(HOURLY_EVALUATION_MINUTE)),
            targets=[targets.LambdaFunction(evaluator, event=hourly, retry_attempts=0)],
        )
        # every 5 minutes, all at once: the fleet tier (+ cost readout) and each rollup shard. A run is
        # idempotent (whole buckets rewritten), so it may be retried; the jobs function's timeout (240 s)
        # is below the period, so only a retry can overlap a shard's next run, and that rewrites the same.
        inputs = job_inputs()
        for n, first in enumerate(range(0, len(inputs), TARGETS_PER_RULE)):
            batch = inputs[first : first + TARGETS_PER_RULE]
            events.Rule(
                self,
                f"ScheduledJobs{n}",
                description=f"Vigil: fleet tier, cost readout and rollup shards (part {n + 1})",
                schedule=events.Schedule.rate(JOBS_PERIOD),
                targets=[
                    targets.LambdaFunction(
                        jobs, event=events.RuleTargetInput.from_object(i), retry_attempts=2
                    )
                    for i in batch
                ],
            )

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        """sns:Publish on the alerts topic (and use of its key)."""
        self.topic.grant_publish(grantee)

    def grant_manage_subscriptions(self, function: lambda_.Function) -> None:
        """E-mail/SMS channels created through the API become subscriptions of the alerts topic:
        sns:Subscribe on this topic only. sns:Unsubscribe has no resource type in IAM (the Service
        Authorization Reference lists none: it takes a subscription ARN), so it needs Resource '*'."""
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["sns:Subscribe"], resources=[self.topic.topic_arn])
        )
        function.add_to_role_policy(iam.PolicyStatement(actions=["sns:Unsubscribe"], resources=["*"]))
        acknowledge(
            function.role or function,
            "AwsSolutions-IAM5[Resource::*]",
            "sns:Unsubscribe takes a subscription ARN and IAM defines no resource type for it, so "
            "Resource '*' is the only form IAM accepts; the statement allows only sns:Unsubscribe.",
        )

    def grant_read_dead_letters(self, function: lambda_.Function) -> None:
        """The dead-letter list and replay (alerts API) import what the DLQ holds: receive and delete
        (CDK's grant_consume_messages would add visibility and attribute actions nothing calls)."""
        self.dead_letter_queue.grant(function, "sqs:ReceiveMessage", "sqs:DeleteMessage")

    def grant_seal_channel_secrets(self, grantee: iam.IGrantable) -> None:
        """kms:Encrypt and kms:Decrypt of channel secrets (the alerts function writes channels and
        sends their tests), only under an encryption context naming a channel document; and for Web
        Push: sealing subscriptions (never opening them: the API reads none back) and the VAPID key
        pair, which it creates on first use and reads for its public half."""
        self._grant_key(grantee, ["kms:Encrypt", "kms:Decrypt"], [*CHANNEL_CONTEXTS, VAPID_CONTEXT])
        self._grant_key(grantee, ["kms:Encrypt"], [PUSH_SUBSCRIPTION_CONTEXT])

    def grant_open_channel_secrets(self, grantee: iam.IGrantable) -> None:
        """kms:Decrypt of channel secrets, Web Push subscriptions and the VAPID key only (the notify
        function delivers)."""
        contexts = [*CHANNEL_CONTEXTS, PUSH_SUBSCRIPTION_CONTEXT, VAPID_CONTEXT]
        self._grant_key(grantee, ["kms:Decrypt"], contexts)

    def _grant_key(self, grantee: iam.IGrantable, actions: list[str], contexts: list[str]) -> None:
        # `vigil:field` is set by vigil.adapters.secrets.kms to "<kind>/<id>/<field>" of a document.
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=actions,
                resources=[self.key.key_arn],
                conditions={"StringLike": {"kms:EncryptionContext:vigil:field": contexts}},
            )
        )
