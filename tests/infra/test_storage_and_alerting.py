"""Tables, the alerts topic, its subscriptions, the DLQ and the schedules in the synthesized stack."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Match, Template

from infra.settings import Settings
from infra.storage import Storage

if TYPE_CHECKING:
    from tests.infra.conftest import Synth

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


@pytest.mark.parametrize("suffix", ["samples", "meta"])
def test_table_is_on_demand_with_ttl_pitr_and_encryption(synth: Synth, suffix: str) -> None:
    synth.template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "TableName": f"vigil-dev-{suffix}",
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
        },
    )


HOURLY = "cron(20 * * * ? *)"  # the hourly rules' run (infra/sizing.py HOURLY_EVALUATION_MINUTE)


def test_dev_tables_are_destroyed_with_the_stack(synth: Synth) -> None:
    for table in synth.resources("AWS::DynamoDB::Table").values():
        assert table["DeletionPolicy"] == "Delete"
        assert table["Properties"].get("DeletionProtectionEnabled") in (None, False)


def test_prod_tables_are_retained_and_deletion_protected() -> None:
    stack = Stack(App(), "ProdStorage")
    Storage(stack, "Storage", settings=Settings.from_context({"stage": "prod"}.get))
    tables = Template.from_stack(stack).find_resources("AWS::DynamoDB::Table")
    assert {t["Properties"]["TableName"] for t in tables.values()} == {
        "vigil-prod-samples",
        "vigil-prod-meta",
    }
    for table in tables.values():
        assert table["DeletionPolicy"] == "Retain"
        assert table["Properties"]["DeletionProtectionEnabled"] is True


def test_functions_find_the_tables_and_topic_through_their_environment(synth: Synth) -> None:
    for name, fn in synth.stack.functions:
        env = synth.raw["Resources"][synth.logical_id(fn)]["Properties"]["Environment"]["Variables"]
        assert env["VIGIL_STORE"] == "dynamodb"
        assert env["VIGIL_AUTH_MODE"] == "cognito"
        assert env["VIGIL_SAMPLES_TABLE"] == {"Ref": synth.logical_id(synth.stack.storage.samples)}
        assert env["VIGIL_META_TABLE"] == {"Ref": synth.logical_id(synth.stack.storage.meta)}
        assert env["VIGIL_ALERTS_TOPIC_ARN"] == {"Ref": synth.logical_id(synth.stack.alerting.topic)}
        assert env["POWERTOOLS_SERVICE_NAME"] == f"vigil-{name}"
        assert env["MONITORING_INTERVAL"] == "10" and env["MONITORING_RETENTION_DAYS"] == "7"
        assert env["ALERT_CPU_THRESHOLD"] == "80" and env["ALERT_API_THRESHOLD"] == "2000"
        assert "DomainName" in json.dumps(env["VIGIL_PUBLIC_URL"])
        # "host not reporting" adds one evaluation period of grace: the schedule's (rate(1 minute))
        assert env["VIGIL_EVALUATION_PERIOD"] == "60" and env["ALERT_HOST_MISSED_INTERVALS"] == "3"


def test_functions_run_the_newest_python_on_arm64_with_the_shared_layer(synth: Synth) -> None:
    layer_id = synth.logical_id(synth.stack.layer)
    for _name, fn in synth.stack.functions:
        props = synth.raw["Resources"][synth.logical_id(fn)]["Properties"]
        assert props["Runtime"] == "python3.14"
        assert props["Architectures"] == ["arm64"]
        assert props["Handler"] == "handler.handler"
        assert props["Layers"] == [{"Ref": layer_id}]


def test_alerts_topic_is_kms_encrypted_and_https_only(synth: Synth) -> None:
    topic_id = synth.logical_id(synth.stack.alerting.topic)
    topic = synth.raw["Resources"][topic_id]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [synth.logical_id(synth.stack.alerting.key), "Arn"]}
    synth.template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "Topics": [{"Ref": topic_id}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        )
                    ]
                )
            },
        },
    )


def test_email_gets_every_alert_and_sms_only_critical(synth: Synth) -> None:
    subs = [s["Properties"] for s in synth.resources("AWS::SNS::Subscription").values()]
    topic = {"Ref": synth.logical_id(synth.stack.alerting.topic)}
    emails = [s for s in subs if s["Protocol"] == "email" and s["TopicArn"] == topic]
    assert sorted(s["Endpoint"] for s in emails) == ["lead@example.com", "oncall@example.com"]
    assert all(s["FilterPolicy"] == NOT_A_TEST for s in emails)  # every alert, no channel tests
    (sms,) = [s for s in subs if s["Protocol"] == "sms"]
    assert sms["Endpoint"] == "+15555550100"
    assert sms["FilterPolicy"] == {"severity": ["critical"], **NOT_A_TEST}


NOT_A_TEST = {"kind": [{"anything-but": ["test"]}]}


def test_channel_tests_reach_only_the_channel_tested_not_notify(synth: Synth) -> None:
    notify_id = synth.logical_id(synth.stack.functions.notify)
    synth.template.has_resource_properties(
        "AWS::SNS::Subscription",
        {"Protocol": "lambda", "Endpoint": {"Fn::GetAtt": [notify_id, "Arn"]}, "FilterPolicy": NOT_A_TEST},
    )


def test_notify_alarms_on_its_dlq_depth_and_oldest_message_age_not_on_errors(synth: Synth) -> None:
    dlq_name = {"Fn::GetAtt": [synth.logical_id(synth.stack.alerting.dead_letter_queue), "QueueName"]}
    alarms = [a["Properties"] for a in synth.resources("AWS::CloudWatch::Alarm").values()]

    def on(metric: str, dimension: Any) -> list[dict[str, Any]]:
        return [a for a in alarms if metric in json.dumps(a) and json.dumps(dimension) in json.dumps(a)]

    depth = on("ApproximateNumberOfMessagesVisible", dlq_name)
    age = on("ApproximateAgeOfOldestMessage", dlq_name)
    assert len(depth) == 1 and depth[0]["Threshold"] == 0
    assert len(age) == 1 and age[0]["Threshold"] == 12 * 3600
    assert all(a["AlarmActions"] for a in depth + age)
    notify = {"Ref": synth.logical_id(synth.stack.functions.notify)}
    assert on("Errors", notify) == []  # transient failures are retried by design
    alerts = {"Ref": synth.logical_id(synth.stack.functions.alerts)}
    assert on("Errors", alerts)  # the other functions keep theirs


def test_functions_know_the_notify_dlq_url(synth: Synth) -> None:
    dlq_id = synth.logical_id(synth.stack.alerting.dead_letter_queue)
    alerts = synth.raw["Resources"][synth.logical_id(synth.stack.functions.alerts)]["Properties"]
    assert alerts["Environment"]["Variables"]["VIGIL_NOTIFY_DLQ_URL"] == {"Ref": dlq_id}


def test_notify_is_subscribed_and_its_failures_end_in_the_dlq(synth: Synth) -> None:
    notify_id = synth.logical_id(synth.stack.functions.notify)
    dlq_id = synth.logical_id(synth.stack.alerting.dead_letter_queue)
    synth.template.has_resource_properties(
        "AWS::SNS::Subscription",
        {
            "Protocol": "lambda",
            "Endpoint": {"Fn::GetAtt": [notify_id, "Arn"]},
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]}},
        },
    )
    synth.template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": {"Ref": notify_id},
            "MaximumRetryAttempts": 2,
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [dlq_id, "Arn"]}}},
        },
    )


def test_dlq_is_encrypted_and_https_only(synth: Synth) -> None:
    dlq_id = synth.logical_id(synth.stack.alerting.dead_letter_queue)
    props = synth.raw["Resources"][dlq_id]["Properties"]
    assert props["SqsManagedSseEnabled"] is True
    assert props["MessageRetentionPeriod"] == 14 * 86400
    synth.template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [{"Ref": dlq_id}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        )
                    ]
                )
            },
        },
    )


def test_evaluator_runs_every_minute_without_retries_and_the_jobs_function_every_5_minutes(
    synth: Synth,
) -> None:
    rules = [r["Properties"] for r in synth.resources("AWS::Events::Rule").values()]
    assert {r["ScheduleExpression"] for r in rules} == {"rate(1 minute)", "rate(5 minutes)", HOURLY}
    (minute,) = [r for r in rules if r["ScheduleExpression"] == "rate(1 minute)"]
    (every_minute,) = minute["Targets"]
    assert every_minute["Arn"] == {"Fn::GetAtt": [synth.logical_id(synth.stack.functions.alerts), "Arn"]}
    assert every_minute["RetryPolicy"]["MaximumRetryAttempts"] == 0
    jobs = {"Fn::GetAtt": [synth.logical_id(synth.stack.functions.jobs), "Arn"]}
    five = [t for r in rules if r["ScheduleExpression"] == "rate(5 minutes)" for t in r["Targets"]]
    assert five and all(t["Arn"] == jobs for t in five)  # the metrics function has no schedule now
    synth.template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {"FunctionName": {"Ref": synth.logical_id(synth.stack.functions.alerts)}, "MaximumRetryAttempts": 0},
    )


def test_the_hourly_rules_run_in_the_alerts_function_at_minute_20_of_each_hour_without_retries(
    synth: Synth,
) -> None:
    from vigil.alerting.entry import HOURLY_DETAIL

    rules = [r["Properties"] for r in synth.resources("AWS::Events::Rule").values()]
    (hourly,) = [r for r in rules if r["ScheduleExpression"] == HOURLY]
    (target,) = hourly["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [synth.logical_id(synth.stack.functions.alerts), "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 0  # the next hour's run reads the same
    event = json.loads(target["Input"])
    assert event["source"] == "aws.events" and event["detail"] == HOURLY_DETAIL


def test_the_fleet_tier_runs_once_and_each_rollup_shard_once_every_5_minutes_in_the_jobs_function(
    synth: Synth,
) -> None:
    from infra.alerting import ROLLUP_SHARDS, TARGETS_PER_RULE

    rules = [r["Properties"] for r in synth.resources("AWS::Events::Rule").values()]
    five = [r for r in rules if r["ScheduleExpression"] == "rate(5 minutes)"]
    assert all(len(r["Targets"]) <= TARGETS_PER_RULE for r in five)  # EventBridge's limit per rule
    details = [json.loads(t["Input"])["detail"] for r in five for t in r["Targets"]]
    assert [d for d in details if "shard" not in d] == [{"jobs": ["fleet", "cost"]}]
    shards = sorted(d["shard"] for d in details if "shard" in d)
    assert shards == list(range(ROLLUP_SHARDS)) and ROLLUP_SHARDS > 1
    assert all(d["jobs"] == ["rollups"] and d["shards"] == ROLLUP_SHARDS for d in details if "shard" in d)
    assert all(json.loads(t["Input"])["source"] == "aws.events" for r in five for t in r["Targets"])


def test_the_jobs_function_runs_the_metrics_code_with_a_full_vcpu_and_a_timeout_below_its_period(
    synth: Synth,
) -> None:
    fn = synth.raw["Resources"][synth.logical_id(synth.stack.functions.jobs)]["Properties"]
    metrics = synth.raw["Resources"][synth.logical_id(synth.stack.functions.metrics)]["Properties"]
    assert fn["Code"] == metrics["Code"] and fn["Handler"] == metrics["Handler"]
    assert fn["MemorySize"] == 1769 and fn["Timeout"] < 300
    assert metrics["Timeout"] == 29  # the API's function keeps API Gateway's limit
    alerts = synth.raw["Resources"][synth.logical_id(synth.stack.functions.alerts)]["Properties"]
    assert alerts["MemorySize"] == 1769 and alerts["Timeout"] == 50


def test_channel_secrets_are_sealed_with_the_stack_key_not_kept_in_a_secret(synth: Synth) -> None:
    assert not synth.resources("AWS::SecretsManager::Secret")  # nothing would read it
    key = synth.logical_id(synth.stack.alerting.key)
    for _name, fn in synth.stack.functions:
        env = synth.raw["Resources"][synth.logical_id(fn)]["Properties"]["Environment"]["Variables"]
        assert env["VIGIL_CHANNEL_KEY_ARN"] == {"Fn::GetAtt": [key, "Arn"]}
        assert "VIGIL_CHANNEL_SECRETS_ARN" not in env
    text = json.dumps(synth.raw)
    assert "hooks.slack.com" not in text and "discord.com/api/webhooks" not in text
