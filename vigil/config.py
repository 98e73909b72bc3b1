"""The only place Vigil reads environment variables.

Every setting a component reads is documented here (name, default, meaning), and nowhere else calls
`os.environ`. `Config.from_env()` is called once per process (Lambda cold start, `vigil serve`), and
the result is passed down; tests build a `Config` directly.

Must not import anything from Vigil beyond the standard library.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

StoreKind = Literal["sqlite", "dynamodb"]
AuthMode = Literal["local", "cognito"]


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name} must be an integer, got {raw!r}") from exc


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name} must be a number, got {raw!r}") from exc


def agent_key_from_env(env: Mapping[str, str] | None = None) -> str | None:
    """The ingest key `vigil agent` uses when `--key` is absent: VIGIL_INGEST_KEY, or None."""
    return (os.environ if env is None else env).get("VIGIL_INGEST_KEY") or None


@dataclass(frozen=True)
class Thresholds:
    """Default alert thresholds (seed plan names). Units: percent, milliseconds."""

    cpu_percent: float = 80.0  # ALERT_CPU_THRESHOLD
    memory_percent: float = 90.0  # ALERT_MEMORY_THRESHOLD
    api_p95_ms: float = 2000.0  # ALERT_API_THRESHOLD
    error_rate_percent: float = 5.0  # ALERT_ERROR_RATE_THRESHOLD
    db_query_ms: float = 1000.0  # ALERT_DB_QUERY_THRESHOLD
    host_missed_intervals: int = 3  # ALERT_HOST_MISSED_INTERVALS: a host's own reporting intervals


DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"


@dataclass(frozen=True)
class CostSources:
    """What the hourly cost job reads CloudWatch metrics for (AWS only; `VIGIL_COST_*`): each
    function's name and memory (MB), the HTTP API's id, the functions' log groups. Tables and topic
    come from the table and topic settings."""

    functions: tuple[tuple[str, int], ...] = ()
    api_id: str | None = None
    log_groups: tuple[str, ...] = ()


def _cost_sources(env: Mapping[str, str]) -> CostSources | None:
    """VIGIL_COST_FUNCTIONS is `name=memory,...` of the other functions; this function's own name
    and memory come from the variables Lambda sets (a function cannot name itself in CloudFormation)."""
    if not env.get("VIGIL_COST_FUNCTIONS") and not env.get("VIGIL_COST_API_ID"):
        return None
    functions: list[tuple[str, int]] = []
    for entry in filter(None, env.get("VIGIL_COST_FUNCTIONS", "").split(",")):
        name, _, memory = entry.partition("=")
        functions.append((name, int(memory or 128)))
    own = env.get("AWS_LAMBDA_FUNCTION_NAME")
    if own and own not in dict(functions):
        functions.append((own, _int(env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 128)))
    return CostSources(
        functions=tuple(functions),
        api_id=env.get("VIGIL_COST_API_ID") or None,
        log_groups=tuple(filter(None, env.get("VIGIL_COST_LOG_GROUPS", "").split(","))),
    )


@dataclass(frozen=True)
class Config:
    """All settings of one Vigil process.

    Environment variables (default in brackets):
      VIGIL_STORE            sqlite | dynamodb [sqlite]
      VIGIL_DATA_DIR         local data folder (SQLite file, admin token) [.vigil]
      VIGIL_TABLE_PREFIX     DynamoDB table-name prefix when the names below are unset [vigil]
      VIGIL_SAMPLES_TABLE    DynamoDB table for raw samples and rollups [<prefix>-samples]
      VIGIL_META_TABLE       DynamoDB table for keys, hosts, errors, documents [<prefix>-meta]
      VIGIL_AUTH_MODE        local (admin token / minted tokens) | cognito (JWT claims from API GW) [local]
      VIGIL_ADMIN_TOKEN      local admin token; generated into the data dir when unset
      VIGIL_ALERTS_TOPIC_ARN SNS topic the evaluator publishes to (AWS); unset locally
      VIGIL_CHANNEL_KEY_ARN  KMS key that encrypts channel secrets in the meta table (AWS); unset locally
      VIGIL_NOTIFY_DLQ_URL   SQS dead-letter queue of the notify function (AWS); unset locally
      VIGIL_NOTIFY_MAX_ATTEMPTS     local delivery attempts of one notification before it is a dead letter [5]
      VIGIL_DEAD_LETTER_RETENTION_DAYS  days a dead letter is kept for inspection and replay [14]
      VIGIL_SMTP_URL         smtp://host:port for local e-mail delivery
      VIGIL_ALLOW_PRIVATE_WEBHOOKS  1 lets webhooks reach private/loopback addresses [0]
      VIGIL_ALLOW_PRIVATE_CHECKS    1 lets synthetic checks reach private/loopback addresses in AWS
                             (local mode always allows them: you monitor your own services) [0]
      VIGIL_STATUS_BUCKET    S3 bucket the status page job writes `status.json` and `status.html`
                             to (AWS); unset locally, where the server renders `/status` itself
      VIGIL_CHECKS_BUDGET    seconds one runner invocation may spend on checks [35]
      VIGIL_PUBLIC_URL       dashboard URL used in notification links [the local server's own
                             address; http://127.0.0.1:8080 outside it]
      VIGIL_MAX_SERIES_PER_HOST     cardinality guard: distinct series per host [1000]
      VIGIL_MAX_LABEL_VALUES        cardinality guard: distinct values per label key per host [100]
      VIGIL_INGEST_WORKERS   local: ingest worker processes, one request each at a time [2]
      MONITORING_INTERVAL    agent/evaluator period in seconds (seed used ms: values >= 1000 are ms) [10]
      MONITORING_RETENTION_DAYS     raw-sample retention in days [7]
      VIGIL_ALERT_HISTORY_DAYS      alert history (state transitions) kept, days [30]
      VIGIL_INBOX_DAYS              in-app inbox notifications kept, days [30]
      VIGIL_DELIVERY_DAYS           delivery and publish records kept, days [7]
      ALERT_CPU_THRESHOLD, ALERT_MEMORY_THRESHOLD, ALERT_API_THRESHOLD (ms),
      ALERT_ERROR_RATE_THRESHOLD, ALERT_DB_QUERY_THRESHOLD (ms)
      ALERT_HOST_MISSED_INTERVALS   "host not reporting" after this many missed reporting intervals [3]
      VIGIL_EVALUATION_PERIOD       seconds between evaluator runs [MONITORING_INTERVAL; 60 in AWS]
      VIGIL_PRICING_REGION   the pricing table `GET /api/cost` uses [AWS_REGION, else us-east-1]
      VIGIL_COST_FUNCTIONS   AWS: `name=memoryMB,...` of the functions whose Lambda metrics the hourly
                             cost job reads (this function is added from AWS_LAMBDA_FUNCTION_NAME and
                             AWS_LAMBDA_FUNCTION_MEMORY_SIZE) [unset: no CloudWatch usage is read]
      VIGIL_COST_API_ID      AWS: the HTTP API whose request count the cost job reads
      VIGIL_COST_LOG_GROUPS  AWS: comma-separated log groups whose ingested bytes the cost job reads
      VIGIL_LIVE_EVENTS_URL  AWS: the AppSync Events HTTP endpoint ingest publishes "what changed" to
                             (`https://<host>/event`); unset locally, where `vigil serve` streams it
      VIGIL_VAPID_SUBJECT    Web Push: the VAPID `sub` contact push services may use (`mailto:` or https
                             URL) [VIGIL_PUBLIC_URL when it is https, else mailto:vigil@localhost]
      VIGIL_EMIT_METRICS     1 emits CloudWatch EMF metrics from the handlers [1 inside Lambda, else 0]
      POWERTOOLS_SERVICE_NAME / LOG_LEVEL are read by Powertools itself.
      VIGIL_INGEST_KEY       `vigil agent` key when --key is not given (read by `agent_key_from_env()`)
    """

    store: StoreKind = "sqlite"
    data_dir: Path = Path(".vigil")
    table_prefix: str = "vigil"
    samples_table: str | None = None
    meta_table: str | None = None
    auth_mode: AuthMode = "local"
    admin_token: str | None = None
    alerts_topic_arn: str | None = None
    channel_key_arn: str | None = None
    notify_dlq_url: str | None = None
    notify_max_attempts: int = 5
    live_events_url: str | None = None
    vapid_subject: str | None = None
    dead_letter_retention_days: int = 14
    smtp_url: str | None = None
    allow_private_webhooks: bool = False
    allow_private_checks: bool = False
    status_bucket: str | None = None
    checks_budget_seconds: float = 35.0
    public_url: str | None = None  # None: the local server's own address (`links_url` elsewhere)
    max_series_per_host: int = 1000
    max_label_values: int = 100
    ingest_workers: int = 2  # local: `vigil.local.ingest_pool`
    interval_seconds: float = 10.0
    evaluation_period_seconds: float = 10.0
    retention_days: int = 7
    alert_history_days: int = 30
    inbox_days: int = 30
    delivery_days: int = 7
    thresholds: Thresholds = field(default_factory=Thresholds)
    emit_metrics: bool = False
    pricing_region: str = "us-east-1"
    cost_sources: CostSources | None = None

    @property
    def links_url(self) -> str:
        """Where notification links point: `VIGIL_PUBLIC_URL`; unset, the local server fills in the
        address it actually listens on (`LocalServer.start`), and anything else uses the default port."""
        return self.public_url or DEFAULT_PUBLIC_URL

    @property
    def min_check_interval(self) -> float:
        """Shortest synthetic-check interval: 10 s locally, 60 s in AWS (a one-minute schedule)."""
        return 60.0 if self.store == "dynamodb" else 10.0

    @property
    def retention_seconds(self) -> float:
        return self.retention_days * 86400.0

    @property
    def record_retention(self) -> dict[str, tuple[float, str]]:
        """Document kind → (seconds kept, the timestamp field they count from): alert history, the
        inbox, delivery and publish records. DynamoDB stamps them with a TTL (`expires_at`); the
        local retention job purges them (`vigil.alerting.retention`)."""
        day = 86400.0
        return {
            "alert_history": (self.alert_history_days * day, "at"),
            "inbox": (self.inbox_days * day, "received_at"),
            "delivery": (self.delivery_days * day, "at"),
            "notification_out": (self.delivery_days * day, "published_at"),
            "cost_usage": (31 * day, "hour"),  # the cost readout's longest window is 30 days
        }

    @property
    def samples_table_name(self) -> str:
        return self.samples_table or f"{self.table_prefix}-samples"

    @property
    def meta_table_name(self) -> str:
        return self.meta_table or f"{self.table_prefix}-meta"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "vigil.sqlite3"

    def with_(self, **changes: object) -> Config:
        """A copy with some settings changed (tests, `vigil serve` flags)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        store = env.get("VIGIL_STORE", "sqlite")
        if store not in ("sqlite", "dynamodb"):
            raise ValueError(f"VIGIL_STORE must be 'sqlite' or 'dynamodb', got {store!r}")
        auth = env.get("VIGIL_AUTH_MODE", "local")
        if auth not in ("local", "cognito"):
            raise ValueError(f"VIGIL_AUTH_MODE must be 'local' or 'cognito', got {auth!r}")
        interval = _float(env, "MONITORING_INTERVAL", 10.0)
        if interval >= 1000:  # the seed plan wrote milliseconds (10000); accept both
            interval /= 1000.0
        return cls(
            store=store,  # type: ignore[arg-type]
            data_dir=Path(env.get("VIGIL_DATA_DIR", ".vigil")),
            table_prefix=env.get("VIGIL_TABLE_PREFIX", "vigil"),
            samples_table=env.get("VIGIL_SAMPLES_TABLE") or None,
            meta_table=env.get("VIGIL_META_TABLE") or None,
            auth_mode=auth,  # type: ignore[arg-type]
            admin_token=env.get("VIGIL_ADMIN_TOKEN") or None,
            alerts_topic_arn=env.get("VIGIL_ALERTS_TOPIC_ARN") or None,
            channel_key_arn=env.get("VIGIL_CHANNEL_KEY_ARN") or None,
            notify_dlq_url=env.get("VIGIL_NOTIFY_DLQ_URL") or None,
            notify_max_attempts=max(1, _int(env, "VIGIL_NOTIFY_MAX_ATTEMPTS", 5)),
            dead_letter_retention_days=max(1, _int(env, "VIGIL_DEAD_LETTER_RETENTION_DAYS", 14)),
            smtp_url=env.get("VIGIL_SMTP_URL") or None,
            allow_private_webhooks=env.get("VIGIL_ALLOW_PRIVATE_WEBHOOKS", "0") == "1",
            allow_private_checks=env.get("VIGIL_ALLOW_PRIVATE_CHECKS", "0") == "1",
            status_bucket=env.get("VIGIL_STATUS_BUCKET") or None,
            checks_budget_seconds=_float(env, "VIGIL_CHECKS_BUDGET", 35.0),
            public_url=env.get("VIGIL_PUBLIC_URL") or None,
            max_series_per_host=_int(env, "VIGIL_MAX_SERIES_PER_HOST", 1000),
            max_label_values=_int(env, "VIGIL_MAX_LABEL_VALUES", 100),
            ingest_workers=max(1, _int(env, "VIGIL_INGEST_WORKERS", 2)),
            interval_seconds=interval,
            evaluation_period_seconds=_float(env, "VIGIL_EVALUATION_PERIOD", interval),
            retention_days=_int(env, "MONITORING_RETENTION_DAYS", 7),
            alert_history_days=_int(env, "VIGIL_ALERT_HISTORY_DAYS", 30),
            inbox_days=_int(env, "VIGIL_INBOX_DAYS", 30),
            delivery_days=_int(env, "VIGIL_DELIVERY_DAYS", 7),
            emit_metrics=env.get("VIGIL_EMIT_METRICS", "1" if env.get("AWS_LAMBDA_FUNCTION_NAME") else "0")
            == "1",
            pricing_region=env.get("VIGIL_PRICING_REGION") or env.get("AWS_REGION") or "us-east-1",
            cost_sources=_cost_sources(env),
            live_events_url=env.get("VIGIL_LIVE_EVENTS_URL") or None,
            vapid_subject=env.get("VIGIL_VAPID_SUBJECT") or None,
            thresholds=Thresholds(
                cpu_percent=_float(env, "ALERT_CPU_THRESHOLD", 80.0),
                memory_percent=_float(env, "ALERT_MEMORY_THRESHOLD", 90.0),
                api_p95_ms=_float(env, "ALERT_API_THRESHOLD", 2000.0),
                error_rate_percent=_float(env, "ALERT_ERROR_RATE_THRESHOLD", 5.0),
                db_query_ms=_float(env, "ALERT_DB_QUERY_THRESHOLD", 1000.0),
                host_missed_intervals=_int(env, "ALERT_HOST_MISSED_INTERVALS", 3),
            ),
        )


def running_in_lambda(env: Mapping[str, str] | None = None) -> bool:
    """True inside the AWS Lambda runtime, which sets AWS_LAMBDA_FUNCTION_NAME."""
    env = os.environ if env is None else env
    return bool(env.get("AWS_LAMBDA_FUNCTION_NAME"))
