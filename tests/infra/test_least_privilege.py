"""One role per function, and each role holds only what its function needs (SPEC §8)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.infra.conftest import Synth

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(synth: Synth, name: str) -> list[dict[str, Any]]:
    role = synth.stack.functions[name].role  # type: ignore[index]
    assert role is not None
    role_ref = {"Ref": synth.logical_id(role)}
    found: list[dict[str, Any]] = []
    for policy in synth.resources("AWS::IAM::Policy").values():
        if role_ref in policy["Properties"]["Roles"]:
            found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def _actions_on(synth: Synth, name: str, resource_id: str) -> set[str]:
    """Every action the function's role may perform on resources mentioning `resource_id`."""
    actions: set[str] = set()
    for st in _statements(synth, name):
        if any(resource_id in json.dumps(r) for r in _as_list(st["Resource"])):
            actions.update(_as_list(st["Action"]))
    return actions


def _ids(synth: Synth) -> dict[str, str]:
    s = synth.stack
    return {
        "samples": synth.logical_id(s.storage.samples),
        "meta": synth.logical_id(s.storage.meta),
        "topic": synth.logical_id(s.alerting.topic),
        "key": synth.logical_id(s.alerting.key),
    }


READS = {"dynamodb:GetItem", "dynamodb:Query"}
META_WRITES = READS | {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
SAMPLE_WRITES = READS | {"dynamodb:PutItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem"}


def test_each_function_has_its_own_role(synth: Synth) -> None:
    roles = [fn.role for _name, fn in synth.stack.functions]
    assert len({synth.logical_id(r) for r in roles if r is not None}) == 4


# no IAM resource type exists for these actions
STAR_ALLOWED = {("alerts", "sns:Unsubscribe"), ("metrics", "cloudwatch:GetMetricData")}


def test_no_statement_uses_a_star_resource_except_unsubscribe_and_metric_reads(synth: Synth) -> None:
    for name, _fn in synth.stack.functions:
        for st in _statements(synth, name):
            if "*" in _as_list(st["Resource"]):
                assert {(name, a) for a in _as_list(st["Action"])} <= STAR_ALLOWED, st
                assert len(_as_list(st["Action"])) == 1, st


def test_metrics_reads_and_writes_both_tables_and_nothing_else(synth: Synth) -> None:
    ids = _ids(synth)
    assert _actions_on(synth, "metrics", ids["samples"]) == SAMPLE_WRITES  # no Scan, streams, ...
    assert _actions_on(synth, "metrics", ids["meta"]) == META_WRITES
    for other in ("topic", "key"):
        assert not _actions_on(synth, "metrics", ids[other])


def test_the_jobs_function_reads_and_batch_writes_samples_and_keeps_its_state_in_meta_only(
    synth: Synth,
) -> None:
    ids = _ids(synth)
    size = {"dynamodb:DescribeTable"}  # the cost readout's storage figure
    assert _actions_on(synth, "jobs", ids["samples"]) == {"dynamodb:Query", "dynamodb:BatchWriteItem"} | size
    assert (
        _actions_on(synth, "jobs", ids["meta"])
        == {
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        }
        | size
    )
    for other in ("topic", "key"):
        assert not _actions_on(synth, "jobs", ids[other])


def test_health_can_only_get_two_meta_items(synth: Synth) -> None:
    ids = _ids(synth)
    assert _actions_on(synth, "health", ids["meta"]) == {"dynamodb:GetItem"}
    assert not _actions_on(synth, "health", ids["samples"])  # O(1): never a Query per host
    all_actions = {a for st in _statements(synth, "health") for a in _as_list(st["Action"])}
    assert all_actions == {"dynamodb:GetItem", "logs:CreateLogStream", "logs:PutLogEvents"}


def _channel_key_statements(synth: Synth, name: str) -> list[dict[str, Any]]:
    key = _ids(synth)["key"]
    return [
        st
        for st in _statements(synth, name)
        if "Condition" in st and any(key in json.dumps(r) for r in _as_list(st["Resource"]))
    ]


def _contexts(*patterns: str) -> dict[str, Any]:
    return {"StringLike": {"kms:EncryptionContext:vigil:field": list(patterns)}}


CHANNELS = ("channel/*", "channel_subscription/*")


def test_alerts_reads_samples_writes_meta_publishes_and_seals_channel_secrets(synth: Synth) -> None:
    ids = _ids(synth)
    samples = _actions_on(synth, "alerts", ids["samples"])
    # the evaluator's reads, and the check runner's results through the ingest path (never a delete)
    assert samples == READS | {"dynamodb:PutItem", "dynamodb:BatchWriteItem"}
    assert _actions_on(synth, "alerts", ids["meta"]) == META_WRITES
    # Publish state changes; subscribe e-mail/SMS channels created through the API (nothing else).
    assert _actions_on(synth, "alerts", ids["topic"]) == {"sns:Publish", "sns:Subscribe"}
    unsubscribe = [st for st in _statements(synth, "alerts") if "sns:Unsubscribe" in _as_list(st["Action"])]
    assert [(_as_list(st["Action"]), st["Resource"]) for st in unsubscribe] == [(["sns:Unsubscribe"], "*")]
    # Channel tests (e-mail/SMS through their subscription) publish to the topic too, never elsewhere:
    publishes = [st for st in _statements(synth, "alerts") if "sns:Publish" in _as_list(st["Action"])]
    assert publishes and all(ids["topic"] in json.dumps(st["Resource"]) for st in publishes)
    # The dead-letter list and replay read and delete what the notify DLQ holds (and nothing else):
    dlq = synth.logical_id(synth.stack.alerting.dead_letter_queue)
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage"} <= _actions_on(synth, "alerts", dlq)
    assert "sqs:SendMessage" not in _actions_on(synth, "alerts", dlq)
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= _actions_on(synth, "alerts", ids["key"])
    # Channel secrets and the VAPID key are sealed and opened; Web Push subscriptions only sealed.
    grants = {
        tuple(sorted(_as_list(st["Action"]))): st["Condition"]
        for st in _channel_key_statements(synth, "alerts")
    }
    assert grants == {
        ("kms:Decrypt", "kms:Encrypt"): _contexts(*CHANNELS, "push_vapid/*"),
        ("kms:Encrypt",): _contexts("push_subscription/*"),
    }


def test_alerts_may_write_only_the_status_pages_two_objects_to_the_site_bucket(synth: Synth) -> None:
    from infra.site import STATUS_PAGE_KEYS
    from vigil.services.status_page import HTML_KEY, JSON_KEY

    assert STATUS_PAGE_KEYS == (HTML_KEY, JSON_KEY)
    bucket = synth.logical_id(synth.stack.site.bucket)
    s3 = [
        st for name, _ in synth.stack.functions for st in _statements(synth, name) if bucket in json.dumps(st)
    ]
    assert len(s3) == 1 and _as_list(s3[0]["Action"]) == ["s3:PutObject"]
    objects = json.dumps(s3[0]["Resource"])
    assert objects.count("/status") == 2 and "/*" not in objects and "status.json" in objects
    assert s3[0] in _statements(synth, "alerts")


def test_notify_writes_meta_opens_channel_and_push_secrets_and_never_touches_samples(synth: Synth) -> None:
    ids = _ids(synth)
    # docs get/put; Web Push: list the subscriptions (Query), delete one whose push service says 410
    assert _actions_on(synth, "notify", ids["meta"]) == META_WRITES - {"dynamodb:PutItem"}
    assert not _actions_on(synth, "notify", ids["samples"])
    assert _actions_on(synth, "notify", ids["key"]) == {"kms:Decrypt"}  # opens, never seals
    (opening,) = _channel_key_statements(synth, "notify")
    assert opening["Condition"] == _contexts(*CHANNELS, "push_subscription/*", "push_vapid/*")
    assert not _actions_on(synth, "notify", ids["topic"])  # it receives from SNS, never publishes there
    # e-mail and SMS are native topic subscriptions: notify publishes nothing anywhere (no SMS '*')
    assert not any(
        a.startswith("sns:") for st in _statements(synth, "notify") for a in _as_list(st["Action"])
    )
    dlq = synth.logical_id(synth.stack.alerting.dead_letter_queue)
    assert "sqs:SendMessage" in _actions_on(synth, "notify", dlq)


def test_every_function_writes_only_to_its_own_log_group(synth: Synth) -> None:
    for name in [*(n for n, _fn in synth.stack.functions), "jobs"]:
        log_group = synth.logical_id(synth.stack.functions.log_groups[name])
        logs = [
            st
            for st in _statements(synth, name)
            if any(a.startswith("logs:") for a in _as_list(st["Action"]))
        ]
        assert logs and all(json.dumps(st["Resource"]).count(log_group) == 1 for st in logs)


def test_functions_have_no_managed_policies(synth: Synth) -> None:
    for _name, fn in synth.stack.functions:
        assert fn.role is not None
        role = synth.raw["Resources"][synth.logical_id(fn.role)]["Properties"]
        assert "ManagedPolicyArns" not in role


def test_only_the_jobs_function_may_read_cloudwatch_metrics_and_only_get_metric_data(synth: Synth) -> None:
    for name in [n for n, _fn in synth.stack.functions] + ["jobs"]:
        reads = [
            st for st in _statements(synth, name) if any("cloudwatch:" in a for a in _as_list(st["Action"]))
        ]
        if name == "jobs":
            assert [(_as_list(st["Action"]), st["Resource"]) for st in reads] == [
                (["cloudwatch:GetMetricData"], "*")
            ]
        else:
            assert not reads, (name, reads)
