"""The synthesized template "deployed" onto moto's loopback server, for tests that run the functions as
Lambda would: its tables, topics, queue and key are created under their logical ids, and every
intrinsic (`Ref`, `Fn::GetAtt`, `Fn::Join`, pseudo parameters) in the functions' environment and role
policies resolves to those resources, so a function sees exactly the environment the template gives it
and its calls can be checked against exactly the statements the template grants it.
"""

from __future__ import annotations

import fnmatch
import json
import os
from dataclasses import dataclass, field
from typing import Any

import boto3

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's account
PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "Vigil-dev",
}
_TABLE_PROPS = ("AttributeDefinitions", "KeySchema", "BillingMode", "GlobalSecondaryIndexes")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass
class Deployment:
    template: dict[str, Any]
    endpoint: str
    attrs: dict[str, dict[str, str]] = field(default_factory=dict)  # logical id -> Ref / attributes

    @classmethod
    def create(cls, template: dict[str, Any], endpoint: str) -> Deployment:
        deployment = cls(template, endpoint)
        deployment._create_resources()
        return deployment

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def _create_resources(self) -> None:
        resources = self.template["Resources"]
        by_type = lambda kind: [(k, v["Properties"]) for k, v in resources.items() if v["Type"] == kind]  # noqa: E731
        kms = self.client("kms")
        for logical, _props in by_type("AWS::KMS::Key"):
            meta = kms.create_key(Description=logical)["KeyMetadata"]
            self.attrs[logical] = {"Ref": meta["KeyId"], "Arn": meta["Arn"]}
        ddb = self.client("dynamodb")
        for logical, props in by_type("AWS::DynamoDB::Table"):
            ddb.create_table(TableName=logical, **{k: props[k] for k in _TABLE_PROPS if k in props})
            arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{logical}"
            self.attrs[logical] = {"Ref": logical, "Arn": arn}
        sns = self.client("sns")
        for logical, _props in by_type("AWS::SNS::Topic"):
            arn = sns.create_topic(Name=logical)["TopicArn"]
            self.attrs[logical] = {"Ref": arn, "TopicName": logical, "TopicArn": arn}
        s3 = self.client("s3")
        for logical, _props in by_type("AWS::S3::Bucket"):
            name = logical.lower()  # bucket names are lower case
            s3.create_bucket(Bucket=name)
            self.attrs[logical] = {"Ref": name, "Arn": f"arn:aws:s3:::{name}"}
        sqs = self.client("sqs")
        for logical, _props in by_type("AWS::SQS::Queue"):
            url = sqs.create_queue(QueueName=logical)["QueueUrl"]
            arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{logical}"
            self.attrs[logical] = {"Ref": url, "Arn": arn, "QueueUrl": url, "QueueName": logical}

    def resolve(self, value: Any) -> Any:
        """A template value with every intrinsic replaced by the deployed resource's value."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            ref = value["Ref"]
            return PSEUDO.get(ref) or self.attrs.get(ref, {}).get("Ref") or f"ref-{ref}"
        if "Fn::GetAtt" in value:
            logical, attr = value["Fn::GetAtt"]
            known = self.attrs.get(logical, {})
            if attr in known:
                return known[attr]
            kind = self.template["Resources"][logical]["Type"].split("::")[1].lower()
            if attr == "Arn":
                return f"arn:aws:{kind}:{REGION}:{ACCOUNT}:{logical}"
            return f"{logical.lower()}.{attr.lower()}.example"
        if "Fn::Join" in value:
            sep, parts = value["Fn::Join"]
            return sep.join(str(self.resolve(p)) for p in parts)
        return {k: self.resolve(v) for k, v in value.items()}

    def function_ids(self) -> dict[str, str]:
        """Function name (metrics, health, ...) -> the logical id of its AWS::Lambda::Function."""
        out = {}
        for logical, res in self.template["Resources"].items():
            env = (res.get("Properties", {}).get("Environment") or {}).get("Variables", {})
            if res["Type"] == "AWS::Lambda::Function" and "POWERTOOLS_SERVICE_NAME" in env:
                out[env["POWERTOOLS_SERVICE_NAME"].removeprefix("vigil-")] = logical
        return out

    def environment(self, function: str) -> dict[str, str]:
        props = self.template["Resources"][self.function_ids()[function]]["Properties"]
        return {k: str(self.resolve(v)) for k, v in props["Environment"]["Variables"].items()}

    def process_environment(self, function: str) -> dict[str, str]:
        """What the function's process sees, as in Lambda: the template's variables, the region and the
        function name, plus AWS on moto (endpoint, fake credentials), no EMF output, and
        VIGIL_ALLOW_PRIVATE_WEBHOOKS=1 (the callers' webhook receivers are on loopback)."""
        return {
            "PATH": os.environ.get("PATH", ""),
            **self.environment(function),
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_LAMBDA_FUNCTION_NAME": f"vigil-{function}",
            "POWERTOOLS_METRICS_DISABLED": "1",
            "VIGIL_ALLOW_PRIVATE_WEBHOOKS": "1",
        }

    def statements(self, function: str) -> list[dict[str, Any]]:
        """The role policy statements of `function`, resolved."""
        props = self.template["Resources"][self.function_ids()[function]]["Properties"]
        role = props["Role"]["Fn::GetAtt"][0]
        found: list[dict[str, Any]] = []
        for res in self.template["Resources"].values():
            if res["Type"] == "AWS::IAM::Policy" and {"Ref": role} in res["Properties"]["Roles"]:
                found.extend(self.resolve(res["Properties"]["PolicyDocument"]["Statement"]))
        return found

    def scan_all_tables(self) -> list[dict[str, Any]]:
        ddb = self.client("dynamodb")
        items: list[dict[str, Any]] = []
        for name, attrs in self.attrs.items():
            if attrs.get("Arn", "").startswith("arn:aws:dynamodb:"):
                for page in ddb.get_paginator("scan").paginate(TableName=name):
                    items.extend(page["Items"])
        return items


# -- IAM evaluation ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    """One authorisation IAM makes for an API call: action, resource ARN, request context."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


_IAM_PREFIX = {"monitoring": "cloudwatch"}


def authorisations(recorded: dict[str, Any]) -> list[Call]:
    """What IAM checks for one call recorded by lambda_runner (batches and transactions per table)."""
    prefix = _IAM_PREFIX.get(recorded["prefix"], recorded["prefix"])
    operation, params = recorded["operation"], recorded["params"]
    if recorded["items"]:
        return [Call(f"dynamodb:{action}", _table_arn(table)) for action, table in recorded["items"]]
    context = tuple(
        (f"kms:EncryptionContext:{k}", v) for k, v in sorted(params.get("EncryptionContext", {}).items())
    )
    return [Call(f"{prefix}:{operation}", _resource(prefix, params), context)]


def _table_arn(table: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"


def _resource(prefix: str, params: dict[str, Any]) -> str:
    if prefix == "dynamodb" and "TableName" in params:
        arn = _table_arn(params["TableName"])
        return f"{arn}/index/{params['IndexName']}" if "IndexName" in params else arn
    if prefix == "sns":
        return str(params.get("TopicArn") or params.get("TargetArn") or "*")  # SMS, Unsubscribe: no ARN
    if prefix == "s3" and "Bucket" in params:
        return f"arn:aws:s3:::{params['Bucket']}" + (f"/{params['Key']}" if "Key" in params else "")
    if prefix == "sqs" and "QueueUrl" in params:
        return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{params['QueueUrl'].rsplit('/', 1)[-1]}"
    if prefix == "kms" and "KeyId" in params:
        key = str(params["KeyId"])
        return key if key.startswith("arn:") else f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key}"
    return "*"


def _conditions_hold(conditions: dict[str, Any], call: Call) -> bool:
    """StringEquals/StringLike on request keys the calls carry; any other operator is unknown here
    and therefore never assumed to hold."""
    values = dict(call.context)
    for operator, tests in conditions.items():
        if operator not in ("StringEquals", "StringLike"):
            return False
        for key, wanted in tests.items():
            have = values.get(key)
            if have is None:
                return False
            if operator == "StringEquals" and have not in as_list(wanted):
                return False
            if operator == "StringLike" and not any(fnmatch.fnmatchcase(have, w) for w in as_list(wanted)):
                return False
    return True


def allowing_statements(statements: list[dict[str, Any]], call: Call) -> list[int]:
    """Indexes of the Allow statements that grant `call` (IAM: any Allow and no Deny)."""
    assert all(st["Effect"] == "Allow" for st in statements), "a Deny would need evaluating first"
    out = []
    for index, st in enumerate(statements):
        action_ok = any(fnmatch.fnmatchcase(call.action.lower(), a.lower()) for a in as_list(st["Action"]))
        resource_ok = any(fnmatch.fnmatchcase(call.resource, r) for r in as_list(st["Resource"]))
        if action_ok and resource_ok and _conditions_hold(st.get("Condition", {}), call):
            out.append(index)
    return out


def granted_pairs(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """Every (action, resource pattern) the statements grant."""
    return {(a, r) for st in statements for a in as_list(st["Action"]) for r in as_list(st["Resource"])}


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
