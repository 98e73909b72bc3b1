"""The four Lambda functions (metrics, health, alerts, notify) and the jobs function, each with its own
role and log group, so every permission is granted to exactly one function (the grants themselves live
in `stack.py`, where the whole least-privilege matrix can be read at once). The jobs function is the
metrics function's code (`functions/metrics`, the same asset) with a longer timeout and a full vCPU,
for the scheduled fleet tier, rollups and cost readout only (no routes, no URL): the metrics
function's 29 s fit API Gateway, not a run over 10,000 hosts (docs/data-model.md, "Scheduled runs").

Must not import anything from `vigil/` except the route table's `FunctionName` and memory sizes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.packaging import ARCHITECTURE, RUNTIME, function_code
from infra.settings import Settings
from infra.sizing import EVALUATOR_TIMEOUT_SECONDS, JOBS_TIMEOUT_SECONDS
from vigil.api.route_table import FUNCTION_MEMORY_MB, JOBS_MEMORY_MB, FunctionName


@dataclass(frozen=True)
class FunctionSpec:
    """Sizing of one function. Defaults favour cold start and cost (arm64, small memory)."""

    memory_mb: int
    timeout: Duration
    description: str


# metrics serves API queries and ingest: API Gateway gives up after 30 s, and more memory = more CPU
# for JSON/protobuf decoding. alerts runs the evaluator every minute: it must finish well within it,
# so it has a full vCPU (1,769 MB): at 10,000 hosts a tick is ~57 s of CPU ("Scheduled runs",
# docs/data-model.md).
SPECS: Mapping[FunctionName, FunctionSpec] = {
    "metrics": FunctionSpec(
        FUNCTION_MEMORY_MB["metrics"], Duration.seconds(29), "Ingest (JSON, OTLP) and queries"
    ),
    "health": FunctionSpec(FUNCTION_MEMORY_MB["health"], Duration.seconds(5), "GET/HEAD /health"),
    "alerts": FunctionSpec(
        FUNCTION_MEMORY_MB["alerts"],
        Duration.seconds(EVALUATOR_TIMEOUT_SECONDS),
        "Alert rules and checks APIs, per-minute checks and evaluator",
    ),
    "notify": FunctionSpec(
        FUNCTION_MEMORY_MB["notify"], Duration.seconds(30), "SNS fan-out to Slack, Discord, webhooks, inbox"
    ),
}


JOBS_SPEC = FunctionSpec(
    JOBS_MEMORY_MB,
    Duration.seconds(JOBS_TIMEOUT_SECONDS),
    "Scheduled fleet tier, cost readout and sharded rollups (the metrics code)",
)


class VigilFunctions(Construct):
    """Creates one function per `SPECS` entry from `functions/<name>/handler.py` plus the layer, and
    the jobs function from `functions/metrics` (`jobs`; not among the HTTP functions iterated)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        layer: lambda_.ILayerVersion,
        environment: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self._by_name: dict[FunctionName, lambda_.Function] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}  # every function's, the jobs function's too
        for name, spec in SPECS.items():
            self._by_name[name] = self._function(name, spec, settings, layer, environment)
        self.jobs = self._function("jobs", JOBS_SPEC, settings, layer, environment, code="metrics")

    def _function(
        self,
        name: str,
        spec: FunctionSpec,
        settings: Settings,
        layer: lambda_.ILayerVersion,
        environment: Mapping[str, str],
        *,
        code: FunctionName | None = None,
    ) -> lambda_.Function:
        """`code`: the folder under functions/ whose handler it runs (`name` when None)."""
        scope = Construct(self, name.capitalize())
        log_group = logs.LogGroup(
            scope,
            "Logs",
            retention=log_retention(settings.log_retention_days),
            removal_policy=RemovalPolicy.RETAIN if settings.keeps_data else RemovalPolicy.DESTROY,
        )
        # A role of its own, without AWSLambdaBasicExecutionRole (which allows writing to any log group).
        role = iam.Role(
            scope,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Vigil {name} function: only what {name} needs",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        )
        function = lambda_.Function(
            scope,
            "Function",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler="handler.handler",
            code=function_code(code or name),
            layers=[layer],
            role=role,
            memory_size=spec.memory_mb,
            timeout=spec.timeout,
            description=f"Vigil {name}: {spec.description}",
            log_group=log_group,
            # JSON logs so Lambda can filter by level: its platform START/END/REPORT lines (INFO) are
            # not sent (≈ 300 bytes per invocation, US$0.006 per host-month of pushes; Duration and
            # Init come from the AWS/Lambda metrics instead). Application logs stay at INFO: the EMF
            # metric lines (no "level", so INFO to Lambda) must pass; Python's printed lines are passed
            # as they are, so CloudWatch still extracts their metrics. docs/data-model.md, "Counted at
            # scale".
            logging_format=lambda_.LoggingFormat.JSON,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            environment={
                **environment,
                "POWERTOOLS_SERVICE_NAME": f"vigil-{name}",
                "LOG_LEVEL": "INFO",
            },
        )
        self.log_groups[name] = log_group
        return function

    def __getitem__(self, name: str) -> lambda_.Function:
        """A function by name: an HTTP function's, or `jobs`."""
        return self.jobs if name == "jobs" else self._by_name[name]  # type: ignore[index]

    def __iter__(self) -> Iterator[tuple[FunctionName, lambda_.Function]]:
        return iter(self._by_name.items())

    @property
    def metrics(self) -> lambda_.Function:
        return self._by_name["metrics"]

    @property
    def health(self) -> lambda_.Function:
        return self._by_name["health"]

    @property
    def alerts(self) -> lambda_.Function:
        return self._by_name["alerts"]

    @property
    def notify(self) -> lambda_.Function:
        return self._by_name["notify"]


# CloudWatch accepts only these retention periods (days); the enum's Python values are names, not days.
_RETENTION_STEPS: tuple[tuple[int, logs.RetentionDays], ...] = (
    (1, logs.RetentionDays.ONE_DAY),
    (3, logs.RetentionDays.THREE_DAYS),
    (5, logs.RetentionDays.FIVE_DAYS),
    (7, logs.RetentionDays.ONE_WEEK),
    (14, logs.RetentionDays.TWO_WEEKS),
    (30, logs.RetentionDays.ONE_MONTH),
    (60, logs.RetentionDays.TWO_MONTHS),
    (90, logs.RetentionDays.THREE_MONTHS),
    (180, logs.RetentionDays.SIX_MONTHS),
    (365, logs.RetentionDays.ONE_YEAR),
    (731, logs.RetentionDays.TWO_YEARS),
)


def log_retention(days: int) -> logs.RetentionDays:
    """The shortest allowed CloudWatch retention that keeps logs at least `days` days."""
    for limit, value in _RETENTION_STEPS:
        if days <= limit:
            return value
    return logs.RetentionDays.TEN_YEARS
