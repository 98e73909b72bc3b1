"""Vigil watching itself: CloudWatch alarms and a dashboard for its own functions, API, tables and
dead-letter queue, built with cdk-monitoring-constructs; every alarm notifies an ops SNS topic
(encrypted with the alerting key) that `opsEmails` subscribe to.

Alarms (all to the ops topic): Lambda errors > 0 (not for notify, see below) and throttles > 0
(5 min), Lambda duration p95 above 80 % of its timeout; API 5xx > 0 and p95 latency > 2 s; DynamoDB
read/write throttles > 0; the notify function's dead-letter queue: depth > 0 (a notification could not
be delivered after Lambda's retries: open Settings → Deliveries, fix the target, replay) and age of
the oldest message above `DLQ_AGE_LIMIT` (nobody has looked for that long). The notify function has no
errors alarm: a transient Slack/webhook failure raises by design so Lambda retries it; only what
survives the retries (the DLQ) is worth waking someone.

Must not import anything from `vigil/`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cdk_monitoring_constructs as mc
from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.settings import Settings

API_P95_LIMIT = Duration.seconds(2)
DURATION_ALARM_FRACTION = 0.8  # alarm before a function actually times out
DLQ_AGE_LIMIT = Duration.hours(12)  # the queue keeps 14 days; listing dead letters empties it
RETRIED_BY_DESIGN = ("notify",)  # errors are retried by Lambda and end in the DLQ (alarmed there)


class SelfMonitoring(Construct):
    """The ops topic, the alarms and the `<stack>-ops` CloudWatch dashboard."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        key: kms.IKey,
        functions: Iterable[tuple[str, lambda_.Function]],
        api: apigw.IHttpApi,
        tables: Sequence[dynamodb.ITable],
        dead_letter_queue: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self, "OpsTopic", display_name="Vigil ops alarms", master_key=key, enforce_ssl=True
        )
        # CloudWatch publishes alarm notifications itself, so it needs the topic key (key policy).
        key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*")
        for address in settings.ops_emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(address))
        action = mc.SnsAlarmActionStrategy(on_alarm_topic=self.topic, on_ok_topic=self.topic)
        prefix = f"vigil-{settings.stage}"
        self.dashboards = mc.DefaultDashboardFactory(
            self,
            "Dashboards",
            dashboard_name_prefix=prefix,
            create_dashboard=True,
            create_summary_dashboard=False,
            create_alarm_dashboard=False,
        )
        self.facade = mc.MonitoringFacade(
            self,
            "Monitoring",
            alarm_factory_defaults=mc.AlarmFactoryDefaults(
                actions_enabled=True,
                alarm_name_prefix=prefix,
                action=action,
                datapoints_to_alarm=1,
                evaluation_periods=1,
            ),
            dashboard_factory=self.dashboards,
        )
        zero_errors = {"Error": mc.ErrorCountThreshold(max_error_count=0)}
        self.facade.add_large_header("Vigil: functions")
        for name, fn in functions:
            self.facade.monitor_lambda_function(
                lambda_function=fn,
                alarm_friendly_name=f"{name}-fn",
                human_readable_name=f"{name} function",
                add_fault_count_alarm={} if name in RETRIED_BY_DESIGN else zero_errors,
                add_throttles_count_alarm={"Warning": mc.ErrorCountThreshold(max_error_count=0)},
            )
            # The library has no p95 duration alarm; a plain one on the same ops topic.
            timeout = fn.timeout.to_milliseconds() if fn.timeout else 3000
            alarm = fn.metric_duration(statistic="p95", period=Duration.minutes(5)).create_alarm(
                self,
                f"{name.capitalize()}DurationP95",
                alarm_name=f"{prefix}-{name}-fn-duration-p95",
                alarm_description=f"{name}: p95 duration above {DURATION_ALARM_FRACTION:.0%} of timeout",
                threshold=timeout * DURATION_ALARM_FRACTION,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
            alarm.add_ok_action(cw_actions.SnsAction(self.topic))
        self.facade.add_large_header("Vigil: API")
        self.facade.monitor_api_gateway_v2_http_api(
            api=api,
            alarm_friendly_name="api",
            human_readable_name="HTTP API",
            add5xx_count_alarm=zero_errors,
            add_latency_p95_alarm={"Warning": mc.LatencyThreshold(max_latency=API_P95_LIMIT)},
        )
        self.facade.add_large_header("Vigil: tables")
        throttled = {"Warning": mc.ThrottledEventsThreshold(max_throttled_events_threshold=0)}
        for table in tables:
            label = table.node.id.lower()
            self.facade.monitor_dynamo_table(
                table=table,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                alarm_friendly_name=f"{label}-table",
                human_readable_name=f"{label} table",
                add_read_throttled_events_count_alarm=throttled,
                add_write_throttled_events_count_alarm=throttled,
            )
        self.facade.add_large_header("Vigil: notification dead letters")
        self.facade.monitor_sqs_queue(
            queue=dead_letter_queue,
            alarm_friendly_name="notify-dlq",
            human_readable_name="notify dead-letter queue",
            add_queue_max_size_alarm={"Error": mc.MaxMessageCountThreshold(max_message_count=0)},
            add_queue_max_message_age_alarm={
                "Warning": mc.MaxMessageAgeThreshold(max_age_in_seconds=DLQ_AGE_LIMIT.to_seconds())
            },
        )

    @property
    def dashboard(self) -> cloudwatch.Dashboard:
        dashboard = self.dashboards.created_dashboard()
        assert dashboard is not None, "create_dashboard=True always makes one"
        return dashboard
