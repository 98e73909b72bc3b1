"""What Lambda runs is what we test (issue 14): each function runs in a fresh interpreter with its own
folder as the code root and exactly the environment the synthesized template gives it, against the
template's resources created on moto's loopback server, through real event shapes (API Gateway v2
with Cognito claims, EventBridge schedules, SNS). Then:

- IAM by calls: every AWS call each function made (recorded through botocore) is allowed by that
  function's role statements in the template (actions, resource ARNs and wildcards, the encryption-
  context condition), and every granted action is exercised by some call or carries a written reason;
- secrets at rest: a scan of every table item finds no channel secret and no ingest key in clear;
- cold starts: each function loads only the route modules it serves and the libraries they use.

Deviations from the template, stated: VIGIL_ALLOW_PRIVATE_WEBHOOKS=1 so webhooks may reach the test's
loopback receiver (in AWS they must be public https), and VIGIL_ALLOW_PRIVATE_CHECKS=1 so a synthetic
check may probe it (in AWS checks reach public addresses unless that is set).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from infra.alerting import job_inputs
from tests.infra.deployed import Deployment, allowing_statements, authorisations, granted_pairs
from tests.webpush_receiver import Browser
from vigil.api.route_table import match_function
from vigil.local.events import to_event

if TYPE_CHECKING:
    from tests.infra.conftest import Synth

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("lambda_runner.py")
HMAC_KEY = "whsec-conformance-0123456789abcdef"
SLACK_URL = "https://hooks.slack.com/services/T0CONF/B0CONF/slacktokenconformance"
EMAIL = "oncall-conformance@example.com"
PHONE = "+15555550123"
SCHEDULED = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
PHONE_BROWSER, GONE_BROWSER = Browser(), Browser()  # Web Push subscribers (tests/webpush_receiver.py)

# What each function must not load during its runs above (import and every invocation): other
# functions' route modules and the libraries only they use. metrics loads protobuf for OTLP, rightly.
# None loads boto3 (botocore's own session makes the clients: `vigil.adapters.aws`); health, whose
# routes take no input, runs without validation and never loads pydantic nor the wire models; nor
# does notify, which reads stored channels without them (`vigil.domain.channels.stored_channel`).
NO_BOTO3 = ["boto3", "s3transfer"]
# The ingest path's msgspec and the stored-sample arrays' numpy are the metrics function's only; no
# function loads asyncio (Powertools' event_handler package loads without its AppSync resolver:
# `vigil.api.lean_powertools`).
NOT_THEIRS = ["msgspec", "numpy", "asyncio"]
NOT_LOADED = {
    "health": [
        "yaml", "google.protobuf", "opentelemetry", "jinja2", "vigil.alerting", "vigil.services.otlp",
        "vigil.api.ingest_routes", "vigil.api.query_routes", "vigil.api.alert_routes",
        "pydantic", "vigil.domain.models", "cryptography", *NOT_THEIRS, *NO_BOTO3,
    ],
    "metrics": [
        "yaml", "jinja2", "vigil.alerting", "vigil.api.health_routes", "vigil.api.alert_routes",
        "vigil.api.push_routes", "cryptography", "py_vapid", "asyncio", *NO_BOTO3,
    ],
    "jobs": [  # the metrics code on EventBridge's inputs only
        "yaml", "jinja2", "vigil.alerting", "vigil.api.health_routes", "vigil.api.alert_routes", *NO_BOTO3,
    ],
    "alerts": [
        "yaml", "google.protobuf", "opentelemetry", "vigil.services.otlp",
        "vigil.api.health_routes", "vigil.api.ingest_routes", "vigil.api.otlp_routes", *NOT_THEIRS,
        *NO_BOTO3,
    ],
    "notify": [  # delivers stored channels: no pydantic, no rule models, no evaluator
        "yaml", "google.protobuf", "opentelemetry", "vigil.api.health_routes", "vigil.api.alert_routes",
        "pydantic", "vigil.domain.models", "vigil.domain.rules", "vigil.alerting.service",
        *NOT_THEIRS, *NO_BOTO3,
    ],
}  # fmt: skip

# Granted but not called by our code, each with the reason it is granted anyway.
NOT_CALLED_BY_CODE = {
    ("*", "logs:CreateLogStream"): "the Lambda runtime writes the function's logs with its role",
    ("*", "logs:PutLogEvents"): "the Lambda runtime writes the function's logs with its role",
    ("notify", "sqs:SendMessage"): "Lambda's on-failure destination sends failed events to the DLQ",
    ("notify", "sqs:GetQueueAttributes"): "Lambda checks the on-failure destination queue",
    ("notify", "sqs:GetQueueUrl"): "Lambda checks the on-failure destination queue",
    ("alerts", "kms:GenerateDataKey*"): "SNS asks KMS for data keys when alerts publishes to the topic",
    ("alerts", "dynamodb:BatchWriteItem"): "the check runner's results go through put_samples, which writes "
    "a batch larger than one chunk item (hundreds of checks in one run) with BatchWriteItem; this run's one "
    "check fits one item",
    ("metrics", "appsync:EventPublish"): "ingest publishes what changed with a SigV4-signed HTTPS POST to "
    "the AppSync Events endpoint (vigil/adapters/live_events.py), not a botocore client call, so the "
    "recorder never sees it; moto has no AppSync Events: tests/functional/live/test_appsync_events.py "
    "checks the signed request against a loopback receiver",
}


@dataclass
class Receiver:
    port: int = 0
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    pushes: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)  # Web Push, by path


def start_receiver(rec: Receiver) -> ThreadingHTTPServer:
    """A webhook receiver on loopback recording every POST into `rec` (also used by the cold-start
    bench); under `/push/` it is a push service (`/push/gone`: a subscription it dropped, 410)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            if self.path.startswith("/push/"):
                rec.pushes.append((self.path, headers, body))
            else:
                rec.requests.append((headers, body))
            self.send_response(410 if self.path == "/push/gone" else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    server = start_receiver(rec)
    yield rec
    server.shutdown()
    server.server_close()


def api(
    method: str, path: str, body: Any = None, *, key: str | None = None, query: str = ""
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event; `/api/*` carries an admin's Cognito claims as the
    JWT authorizer passes them, `/v1/*` an ingest key."""
    binding = match_function(path)
    assert binding is not None, path
    headers = [("content-type", "application/json"), ("host", "api.example")]
    if key is not None:
        headers.append(("authorization", f"Bearer {key}"))
    raw = json.dumps(body).encode() if body is not None else b""
    event = to_event(method, path, query, headers, raw, route_key=f"ANY {binding.path}")
    if binding.auth == "user":
        claims = {"sub": "u-1", "username": "dana", "cognito:groups": "[admin]", "token_use": "access"}
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": ["openid"]}}
    return event


def function_url(method: str, path: str, body: Any = None, *, key: str | None = None) -> dict[str, Any]:
    """The event Lambda builds for a request to the metrics function's Function URL (auth NONE): payload
    2.0 like the HTTP API's, with the sentinel `routeKey`/`stage` "$default" and no authorizer."""
    url_id = "a1b2c3d4e5f6g7h8i9j0klmnopqrstuv"
    domain = f"{url_id}.lambda-url.us-east-1.on.aws"
    headers = [("content-type", "application/json"), ("host", domain)]
    if key is not None:
        headers.append(("authorization", f"Bearer {key}"))
    raw = json.dumps(body).encode() if body is not None else b""
    event = to_event(method, path, "", headers, raw, route_key="$default")
    context = event["requestContext"]
    context.update(accountId="anonymous", apiId=url_id, domainName=domain, domainPrefix=url_id)
    return event


def otlp_span(start: float, span_id: str, parent: str = "") -> dict[str, Any]:
    span = {
        "traceId": "c" * 32,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": "GET /checkout",
        "kind": 2,
        "startTimeUnixNano": str(int(start * 1e9)),
        "endTimeUnixNano": str(int((start + 0.5) * 1e9)),
    }
    service = {"key": "service.name", "value": {"stringValue": "shop"}}
    return {"resourceSpans": [{"resource": {"attributes": [service]}, "scopeSpans": [{"spans": [span]}]}]}


def hot_cpu_rule(channel: str) -> dict[str, Any]:
    """A rule that fires at once on CPU above 90 % (the samples the runs push are at 97 %)."""
    return {
        "name": "cpu hot",
        "metric": "system.cpu.utilization",
        "agg": "max",
        "window": "10m",
        "op": ">",
        "threshold": 0.9,
        "for": "0s",
        "severity": "critical",
        "channels": [channel],
    }


def step(event: dict[str, Any], **save: str) -> dict[str, Any]:
    return {"event": event, "save": save}


@dataclass
class Run:
    function: str
    import_ms: float
    results: list[dict[str, Any]]
    calls: list[dict[str, Any]]
    modules: list[str]

    def statuses(self) -> list[int | str]:
        return [
            r["response"].get("statusCode", "job") if "response" in r else r["error"] for r in self.results
        ]


@dataclass
class Conformance:
    deployment: Deployment
    runs: dict[str, Run]
    receiver: Receiver
    scan: list[dict[str, Any]]


def run_function(
    deployment: Deployment,
    function: str,
    steps: list[dict[str, Any]],
    tmp: Path,
    *,
    emf: bool = False,
    code: str | None = None,
) -> Run:
    """`emf`: Powertools writes its EMF metric lines as in Lambda (the other runs leave them out);
    `code`: the functions/ folder it runs (the jobs function runs functions/metrics)."""
    env = {
        **deployment.process_environment(function),
        "VIGIL_ALLOW_PRIVATE_CHECKS": "1",
        "PYTHONPATH": str(ROOT),  # the layer's `vigil` (the venv has its dependencies)
    }
    if emf:
        del env["POWERTOOLS_METRICS_DISABLED"]
    steps_file, out_file = tmp / f"{function}-steps.json", tmp / f"{function}-out.json"
    steps_file.write_text(json.dumps(steps))
    folder = ROOT / "functions" / (code or function)
    done = subprocess.run(
        [sys.executable, str(RUNNER), str(folder), str(steps_file), str(out_file)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(out_file.read_text())
    return Run(function, out["import_ms"], out["results"], out["calls"], out["modules"])


@pytest.fixture(scope="module")
def conformance(synth: Synth, receiver: Receiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        deployment = Deployment.create(synth.raw, f"http://{host}:{port}")
        yield _run_everything(deployment, receiver, tmp_path_factory.mktemp("lambda"))
    finally:
        server.stop()


def _run_everything(deployment: Deployment, receiver: Receiver, tmp: Path) -> Conformance:
    now = time.time()
    cpu = [{"metric": "system.cpu.utilization", "value": 0.97, "ts": now - 60 * i} for i in range(5)]
    late = [{**sample, "ts": sample["ts"] - 3 * 3600} for sample in cpu]
    hook = f"http://127.0.0.1:{receiver.port}/hook"
    pushed = f"http://127.0.0.1:{receiver.port}/push/"
    runs: dict[str, Run] = {}
    runs["metrics"] = run_function(
        deployment,
        "metrics",
        [
            step(api("POST", "/api/keys", {"name": "web-1"}), key="key", key_id="id"),
            step(api("POST", "/v1/samples", {"host": "web-1", "samples": cpu}, key="{{key}}")),
            step(function_url("POST", "/v1/samples", {"host": "web-2", "samples": cpu}, key="{{key}}")),
            step(api("POST", "/v1/errors", {"errors": [{"type": "E", "message": "boom"}]}, key="{{key}}")),
            # A child span, then its root which started earlier: the trace's index item moves.
            step(api("POST", "/v1/traces", otlp_span(now, "b" * 16, parent="a" * 16), key="{{key}}")),
            step(api("POST", "/v1/traces", otlp_span(now - 1, "a" * 16), key="{{key}}")),
            step(api("GET", "/api/metrics")),
            step(api("GET", "/api/metrics/series", query="metric=system.cpu.utilization&from=-1h")),
            step(api("GET", "/api/metrics/catalog")),
            step(api("GET", "/api/hosts")),
            step(api("GET", "/api/errors")),
            step(api("GET", "/api/traces")),
            step(api("GET", "/api/export", query="format=csv&metric=system.cpu.utilization&from=-1h")),
            step(api("POST", "/api/dashboards", {"name": "ops", "panels": []}), dash="id"),
            step(api("GET", "/api/dashboards")),
            step(api("DELETE", "/api/dashboards/{{dash}}")),
            step(api("GET", "/api/keys")),
            # samples three hours old: late for the rollups and the fleet tier, markers for the jobs
            step(api("POST", "/v1/samples", {"host": "web-1", "samples": late}, key="{{key}}")),
        ],
        tmp,
        emf=True,  # what each invocation logs is checked below
    )
    # every 5 minutes, all at once: the fleet tier with the cost readout, then each rollup shard
    runs["jobs"] = run_function(deployment, "jobs", [step(i) for i in job_inputs()], tmp, code="metrics")
    runs["health"] = run_function(deployment, "health", [step(api("GET", "/health"))], tmp)
    rule = hot_cpu_rule("{{hook}}")
    # The receiver answers POST: an up check, public so the scheduled run writes the status page.
    probe = f"http://127.0.0.1:{receiver.port}/probe"  # not the webhook's URL, which is a secret
    check = {"name": "Receiver", "url": probe, "method": "POST", "interval": "60s", "public": True}
    # What Lambda's on-failure destination leaves in the notify DLQ: the alerts API imports it.
    dlq = deployment.environment("alerts")["VIGIL_NOTIFY_DLQ_URL"]
    failed = {"requestContext": {"condition": "RetriesExhausted"}, "requestPayload": {"Records": []}}
    deployment.client("sqs").send_message(QueueUrl=dlq, MessageBody=json.dumps(failed))
    runs["alerts"] = run_function(
        deployment,
        "alerts",
        [
            step(
                api(
                    "POST",
                    "/api/channels",
                    {"type": "webhook", "name": "h", "target": hook, "secret": HMAC_KEY},
                ),
                hook="id",
            ),
            step(api("POST", "/api/channels", {"type": "slack", "name": "s", "target": SLACK_URL})),
            step(api("POST", "/api/channels", {"type": "email", "name": "m", "target": EMAIL}), mail="id"),
            step(api("POST", "/api/channels", {"type": "sms", "name": "p", "target": PHONE}), sms="id"),
            step(api("GET", "/api/channels")),
            step(api("POST", "/api/channels/{{hook}}/test")),
            step(api("POST", "/api/channels/{{sms}}/test")),  # through the topic, to its subscription
            step(api("POST", "/api/channels/{{mail}}/test")),
            step(api("GET", "/api/notifications/dead-letters")),  # imports the notify DLQ first
            step(api("GET", "/api/push/vapid-public-key")),  # the key pair is created on first use
            step(api("POST", "/api/push/subscriptions", PHONE_BROWSER.subscription(pushed + "phone"))),
            step(api("POST", "/api/push/subscriptions", GONE_BROWSER.subscription(pushed + "gone"))),
            step(api("POST", "/api/alerts/rules", rule)),
            step(api("GET", "/api/alerts/rules")),
            step(api("POST", "/api/checks", check), check="id"),
            step(api("POST", "/api/checks/{{check}}/run")),
            step(SCHEDULED),  # checks, then the evaluator (the rule fires, published), then the status page
            step(api("GET", "/api/checks")),
            step(api("GET", "/api/alerts")),
            step(api("GET", "/api/notifications")),
            step(api("DELETE", "/api/channels/{{mail}}")),
        ],
        tmp,
    )
    runs["notify"] = run_function(deployment, "notify", [step(sns_event(deployment))], tmp)
    return Conformance(deployment, runs, receiver, deployment.scan_all_tables())


def sns_event(deployment: Deployment) -> dict[str, Any]:
    """The notification the evaluator published, as SNS hands it to the notify function (message and
    attributes as moto's topic recorded them)."""
    from moto.sns.models import sns_backends

    topic = deployment.environment("alerts")["VIGIL_ALERTS_TOPIC_ARN"]
    sent = sns_backends["123456789012"]["us-east-1"].topics[topic].sent_notifications
    assert sent, "the evaluator published nothing"
    message_id, structured, _subject, attributes, _group = sent[-1]
    message = json.loads(structured)["default"]  # MessageStructure=json: Lambda gets `default`
    attrs = {
        k: {"Type": v.get("DataType") or v.get("Type"), "Value": v.get("StringValue") or v.get("Value")}
        for k, v in attributes.items()
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic}:conformance",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": topic,
                    "Message": message,
                    "MessageAttributes": attrs,
                    "Timestamp": "2026-12-02T00:00:00.000Z",
                },
            }
        ]
    }


# -- the tests ---------------------------------------------------------------------------------------
def test_each_function_answers_its_requests_as_in_aws(conformance: Conformance) -> None:
    for run in conformance.runs.values():
        for status in run.statuses():
            assert status == "job" or (isinstance(status, int) and status < 400), (
                run.function,
                run.statuses(),
            )


def test_a_push_through_the_function_url_is_stored_and_logs_only_its_metrics_line(
    conformance: Conformance,
) -> None:
    from vigil.domain.pricing import LOG_BYTES_PER_INVOCATION

    run = conformance.runs["metrics"]
    pushed = run.results[2]
    assert pushed["response"]["statusCode"] == 202
    partitions = [i["pk"]["S"] for i in conformance.scan if i.get("pk", {}).get("S", "").endswith("#web-2")]
    assert "R#web-2" in partitions and "B#web-2" not in partitions  # stored; no batch_id, so no claim
    # What CloudWatch Logs ingests for a successful push: its one EMF line, no INFO line of ours
    # (Lambda's START/END/REPORT lines are off in the template: system log level WARN).
    (line,) = pushed["stdout"].splitlines()
    assert json.loads(line)["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Vigil"
    assert len(line.encode()) + 26 <= LOG_BYTES_PER_INVOCATION  # 26: CloudWatch's per-event overhead


def test_each_function_loads_only_the_routes_it_serves_and_their_libraries(conformance: Conformance) -> None:
    for name, run in conformance.runs.items():
        loaded = set(run.modules)
        assert "vigil.wiring" in loaded  # the run really ran vigil
        unwanted = [m for m in NOT_LOADED[name] if m in loaded]
        assert not unwanted, (name, unwanted)


def test_every_aws_call_a_function_makes_is_allowed_by_its_role(conformance: Conformance) -> None:
    denied = []
    table = []
    for name, run in conformance.runs.items():
        statements = conformance.deployment.statements(name)
        for recorded in run.calls:
            for call in authorisations(recorded):
                allowed = allowing_statements(statements, call)
                table.append(
                    f"{name:8} {call.action:28} {call.resource[-60:]:60} {'granted' if allowed else 'DENIED'}"
                )
                if not allowed:
                    denied.append((name, call))
    print("\n" + "\n".join(sorted(set(table))))
    assert not denied, denied


def test_every_granted_action_is_exercised_or_has_a_written_reason(conformance: Conformance) -> None:
    unused = []
    for name, run in conformance.runs.items():
        statements = conformance.deployment.statements(name)
        used: set[tuple[str, str]] = set()
        for recorded in run.calls:
            for call in authorisations(recorded):
                for index in allowing_statements(statements, call):
                    used |= {(a, call.action) for a in _actions(statements[index])}
        for action, _resource in granted_pairs(statements):
            exercised = any(a == action and _matches(action, c) for a, c in used)
            reason = NOT_CALLED_BY_CODE.get((name, action)) or NOT_CALLED_BY_CODE.get(("*", action))
            if not exercised and not reason:
                unused.append((name, action))
    assert not sorted(set(unused)), sorted(set(unused))


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def _matches(pattern: str, action: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def test_the_alerts_functions_schedule_runs_checks_and_writes_the_status_page(
    conformance: Conformance,
) -> None:
    alerts = conformance.runs["alerts"]
    checks = next(r["response"] for r in alerts.results if "checks_ran" in r.get("response", {}))
    assert checks["status_page"] == "published" and checks["checks_down"] == 0
    bodies = [json.loads(r["response"]["body"]) for r in alerts.results if "body" in r.get("response", {})]
    listed = next(b for b in bodies if isinstance(b, list) and b and "uptime_24h" in b[0])
    assert [(c["name"], c["status"], c["uptime_24h"]) for c in listed] == [("Receiver", "up", 100.0)]
    bucket = conformance.deployment.environment("alerts")["VIGIL_STATUS_BUCKET"]
    s3 = conformance.deployment.client("s3")
    page = s3.get_object(Bucket=bucket, Key="status")
    assert page["ContentType"].startswith("text/html") and b"Receiver" in page["Body"].read()
    status = json.loads(s3.get_object(Bucket=bucket, Key="status.json")["Body"].read())
    assert [c["name"] for c in status["components"]] == ["Receiver"]
    assert "127.0.0.1" not in json.dumps(status)


def test_the_notify_function_delivers_with_the_sealed_webhook_secret(conformance: Conformance) -> None:
    notices = [(h, b) for h, b in conformance.receiver.requests if b]  # the check's probes have no body
    signed = [(h, b) for h, b in notices if json.loads(b).get("status") == "firing"]
    assert signed, conformance.runs["notify"].results
    headers, body = signed[-1]
    t, v1 = (part.split("=", 1)[1] for part in headers["x-vigil-signature"].split(","))
    expected = hmac.new(HMAC_KEY.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(v1, expected)


def test_the_notify_function_pushes_to_browsers_and_removes_a_subscription_that_is_gone(
    conformance: Conformance,
) -> None:
    from tests.webpush_receiver import verify_vapid

    public_key = next(
        json.loads(r["response"]["body"])["public_key"]
        for r in conformance.runs["alerts"].results
        if b"public_key" in r.get("response", {}).get("body", "").encode()
    )
    paths = [path for path, _h, _b in conformance.receiver.pushes]
    assert sorted(paths) == ["/push/gone", "/push/phone"], paths
    _path, headers, body = next(p for p in conformance.receiver.pushes if p[0] == "/push/phone")
    verify_vapid(headers["authorization"], public_key, f"http://127.0.0.1:{conformance.receiver.port}")
    pushed = json.loads(PHONE_BROWSER.decrypt(body))
    assert (pushed["status"], pushed["severity"], pushed["title"]) == ("firing", "critical", pushed["title"])
    subscriptions = [i for i in conformance.scan if "push_subscription" in json.dumps(i.get("pk", ""))]
    assert len(subscriptions) == 1  # the one whose push service answered 410 is gone


def test_no_table_item_holds_a_channel_secret_or_an_ingest_key_in_clear(conformance: Conformance) -> None:
    key = json.loads(conformance.runs["metrics"].results[0]["response"]["body"])["key"]
    secrets = {
        "push endpoint": f"127.0.0.1:{conformance.receiver.port}/push/phone",
        "push p256dh": PHONE_BROWSER.p256dh,
        "push auth": PHONE_BROWSER.subscription("x")["keys"]["auth"],
        "VAPID private key": "PRIVATE KEY",
        "ingest key": key,
        "webhook HMAC key": HMAC_KEY,
        "Slack URL token": "slacktokenconformance",
        "webhook URL": f"127.0.0.1:{conformance.receiver.port}/hook",
        "e-mail endpoint": EMAIL,
        "SMS endpoint": PHONE,
    }
    assert len(conformance.scan) > 20  # the runs above wrote keys, samples, channels, rules, state...
    text = json.dumps(conformance.scan, default=lambda b: b.decode("latin-1"))
    found = [name for name, secret in secrets.items() if secret in text]
    assert not found, found


def test_the_jobs_function_builds_the_fleet_tier_and_rolls_up_every_host_once_across_its_shards(
    conformance: Conformance,
) -> None:
    fleet, *shards = [r["response"] for r in conformance.runs["jobs"].results]
    assert fleet["fleet"]["minutes"] > 0 and "hosts" not in fleet
    partitions = {i["pk"]["S"] for i in conformance.scan if "pk" in i}
    rolled = {pk.removeprefix("H#") for pk in partitions if pk.startswith("H#")}
    assert {"web-1", "web-2"} <= rolled
    assert sum(r["hosts"] for r in shards) == len(rolled)  # each host in exactly one shard
    assert not [i for i in conformance.scan if i.get("pk", {}).get("S") == "DOC#rollup_dirty"]
