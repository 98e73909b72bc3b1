"""Deployment settings read from CDK context (`cdk.json` or `-c key=value`), each with a documented
default, so every construct takes one typed `Settings` instead of reading context itself.

Keys (default in brackets; docs/deploy.md has the same table):
  stage               dev | prod [dev]. prod keeps tables/user pool/bucket on stack deletion and turns on
                      deletion protection; dev destroys them unless `retainData=true`.
  retainData          keep data on `cdk destroy` even in dev [false in dev, always true in prod]
  tablePrefix         DynamoDB table-name prefix [vigil-<stage>] -> <prefix>-samples, <prefix>-meta
  monitoringInterval  agent/evaluator period, seconds (>= 1000 is read as ms, like the seed) [10]
  retentionDays       raw-sample retention, days [7]
  alertHistoryDays, inboxDays, deliveryDays   alert history, in-app inbox, delivery/publish records
                      kept (a DynamoDB TTL), days [30, 30, 7]
  cpuThreshold, memoryThreshold (percent) [80, 90]; apiThreshold (p95 ms) [2000];
  errorRateThreshold (percent) [5]; dbQueryThreshold (ms) [1000]
  alertEmails         comma list of e-mail addresses subscribed to every alert []
  alertPhoneNumbers   comma list of E.164 numbers subscribed to critical alerts by SMS []
  opsEmails           comma list for Vigil's own alarms (self-monitoring) [alertEmails]
  channelSecretNames  no longer used (synth warns): channel secrets are entered in the dashboard and
                      stored KMS-encrypted in the meta table []
  domainName          custom dashboard domain (needs certificateArn, a us-east-1 ACM cert) [none]
  certificateArn      ACM certificate for domainName [none]
  allowedOrigins      extra CORS origins / sign-in callback origins, e.g. http://localhost:5173 []
  apiThrottleRate     API steady-state requests per second [100]
  apiThrottleBurst    API burst [200]
  logRetentionDays    CloudWatch Logs retention for functions and API access logs [30]
  cognitoDomainPrefix hosted sign-in domain prefix [vigil-<stage>-<account id>]

Must not import anything from `vigil/` or read environment variables.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Stage = Literal["dev", "prod"]
ContextReader = Callable[[str], object]


@dataclass(frozen=True)
class Thresholds:
    """Default alert-rule thresholds handed to the functions as ALERT_* variables."""

    cpu_percent: float = 80.0
    memory_percent: float = 90.0
    api_p95_ms: float = 2000.0
    error_rate_percent: float = 5.0
    db_query_ms: float = 1000.0
    host_missed_intervals: int = 3  # "host not reporting" after this many of a host's own intervals


@dataclass(frozen=True)
class Settings:
    """Everything a deployment can choose. Build with `Settings.from_context(node.try_get_context)`."""

    stage: Stage = "dev"
    retain_data: bool = False
    table_prefix: str = "vigil-dev"
    monitoring_interval_seconds: float = 10.0
    retention_days: int = 7
    alert_history_days: int = 30
    inbox_days: int = 30
    delivery_days: int = 7
    thresholds: Thresholds = field(default_factory=Thresholds)
    alert_emails: tuple[str, ...] = ()
    alert_phone_numbers: tuple[str, ...] = ()
    ops_emails: tuple[str, ...] = ()
    channel_secret_names: tuple[str, ...] = ()
    domain_name: str | None = None
    certificate_arn: str | None = None
    allowed_origins: tuple[str, ...] = ()
    api_throttle_rate: int = 100
    api_throttle_burst: int = 200
    log_retention_days: int = 30
    cognito_domain_prefix: str | None = None

    @property
    def is_prod(self) -> bool:
        return self.stage == "prod"

    @property
    def keeps_data(self) -> bool:
        """Whether stateful resources survive `cdk destroy` (always in prod)."""
        return self.is_prod or self.retain_data

    @classmethod
    def from_context(cls, get: ContextReader) -> Settings:
        """Read every key through `get` (e.g. `app.node.try_get_context`).

        Raises:
            ValueError: a key holds a value of the wrong kind or out of range.
        """
        stage = _text(get, "stage") or "dev"
        if stage not in ("dev", "prod"):
            raise ValueError(f"context 'stage' must be 'dev' or 'prod', got {stage!r}")
        interval = _number(get, "monitoringInterval", 10.0)
        if interval >= 1000:  # the seed plan wrote milliseconds (10000); accept both, as vigil.config does
            interval /= 1000.0
        alert_emails = _list(get, "alertEmails")
        thresholds = Thresholds(
            cpu_percent=_number(get, "cpuThreshold", 80.0),
            memory_percent=_number(get, "memoryThreshold", 90.0),
            api_p95_ms=_number(get, "apiThreshold", 2000.0),
            error_rate_percent=_number(get, "errorRateThreshold", 5.0),
            db_query_ms=_number(get, "dbQueryThreshold", 1000.0),
            host_missed_intervals=int(_number(get, "hostMissedIntervals", 3)),
        )
        settings = cls(
            stage=stage,  # type: ignore[arg-type]
            retain_data=_flag(get, "retainData"),
            table_prefix=_text(get, "tablePrefix") or f"vigil-{stage}",
            monitoring_interval_seconds=interval,
            retention_days=int(_number(get, "retentionDays", 7)),
            alert_history_days=int(_number(get, "alertHistoryDays", 30)),
            inbox_days=int(_number(get, "inboxDays", 30)),
            delivery_days=int(_number(get, "deliveryDays", 7)),
            thresholds=thresholds,
            alert_emails=alert_emails,
            alert_phone_numbers=_list(get, "alertPhoneNumbers"),
            ops_emails=_list(get, "opsEmails") or alert_emails,
            channel_secret_names=_list(get, "channelSecretNames"),
            domain_name=_text(get, "domainName"),
            certificate_arn=_text(get, "certificateArn"),
            allowed_origins=tuple(o.rstrip("/") for o in _list(get, "allowedOrigins")),
            api_throttle_rate=int(_number(get, "apiThrottleRate", 100)),
            api_throttle_burst=int(_number(get, "apiThrottleBurst", 200)),
            log_retention_days=int(_number(get, "logRetentionDays", 30)),
            cognito_domain_prefix=_text(get, "cognitoDomainPrefix"),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        """Raises:
        ValueError: an inconsistent combination of settings.
        """
        for key, days in (
            ("retentionDays", self.retention_days),
            ("alertHistoryDays", self.alert_history_days),
            ("inboxDays", self.inbox_days),
            ("deliveryDays", self.delivery_days),
        ):
            if days < 1:
                raise ValueError(f"context '{key}' must be at least 1")
        if not 1 <= self.thresholds.host_missed_intervals <= 100:
            raise ValueError("context 'hostMissedIntervals' must be between 1 and 100")
        if self.monitoring_interval_seconds <= 0:
            raise ValueError("context 'monitoringInterval' must be positive")
        if bool(self.domain_name) != bool(self.certificate_arn):
            raise ValueError("context 'domainName' and 'certificateArn' must be given together")
        for number in self.alert_phone_numbers:
            if not (number.startswith("+") and number[1:].isdigit()):
                raise ValueError(f"alertPhoneNumbers entries must be E.164 (+15551234567), got {number!r}")
        for origin in self.allowed_origins:
            if not origin.startswith(("https://", "http://localhost", "http://127.0.0.1")):
                raise ValueError(f"allowedOrigins entries must be https:// or localhost, got {origin!r}")

    def function_environment(self) -> Mapping[str, str]:
        """The MONITORING_*/ALERT_* variables `vigil.config.Config.from_env` reads."""
        t = self.thresholds
        return {
            "MONITORING_INTERVAL": _fmt(self.monitoring_interval_seconds),
            "MONITORING_RETENTION_DAYS": str(self.retention_days),
            "VIGIL_ALERT_HISTORY_DAYS": str(self.alert_history_days),
            "VIGIL_INBOX_DAYS": str(self.inbox_days),
            "VIGIL_DELIVERY_DAYS": str(self.delivery_days),
            "ALERT_CPU_THRESHOLD": _fmt(t.cpu_percent),
            "ALERT_MEMORY_THRESHOLD": _fmt(t.memory_percent),
            "ALERT_API_THRESHOLD": _fmt(t.api_p95_ms),
            "ALERT_ERROR_RATE_THRESHOLD": _fmt(t.error_rate_percent),
            "ALERT_DB_QUERY_THRESHOLD": _fmt(t.db_query_ms),
            "ALERT_HOST_MISSED_INTERVALS": str(t.host_missed_intervals),
        }


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _text(get: ContextReader, key: str) -> str | None:
    raw = get(key)
    if raw is None:
        return None
    text = str(raw).strip()
    return text or None


def _flag(get: ContextReader, key: str) -> bool:
    raw = get(key)
    if isinstance(raw, bool):
        return raw
    return str(raw).strip().lower() in ("1", "true", "yes") if raw is not None else False


def _number(get: ContextReader, key: str, default: float) -> float:
    raw = get(key)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"context {key!r} must be a number, got {raw!r}") from exc


def _list(get: ContextReader, key: str) -> tuple[str, ...]:
    """A comma list from `-c key=a,b` or a JSON list in cdk.json."""
    raw = get(key)
    if raw is None:
        return ()
    items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    return tuple(s for s in (str(item).strip() for item in items) if s)
