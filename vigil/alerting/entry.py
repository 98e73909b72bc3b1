"""Entry points the runtimes call: the scheduled evaluation (EventBridge every minute in AWS; the local
scheduler every `MONITORING_INTERVAL`); the notify function's SNS handler is `notify_entry`.

`functions/alerts/handler.py`: `lambda_handler("alerts", ALERTS, scheduled=scheduled_evaluation)`;
`functions/notify/handler.py`: `logged("notify", notify_handler)` (`vigil.alerting.notify_entry`:
delivery alone, for its cold start); local mode adds
`("alerts", lambda now: evaluate_now(ctx, now), None)` to its scheduler jobs.
Imports: `vigil.alerting`, `vigil.wiring`; the SNS adapter only when a topic is configured.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from vigil.alerting import dead_letters
from vigil.alerting.dead_letters import DeadLetterQueue
from vigil.alerting.ports import Publisher, Subscriptions
from vigil.alerting.repo import ensure_default_rules
from vigil.alerting.service import EvaluationReport, run_evaluation
from vigil.alerting.windows import EvalRun
from vigil.domain.errors import Invalid
from vigil.wiring import AppContext, app_context

# The constant `detail` of the alerts function's hourly EventBridge target (infra/alerting.py).
HOURLY_DETAIL = {"evaluate": "hourly"}


@lru_cache(maxsize=4)
def _sns_publisher(topic_arn: str, public_url: str) -> Publisher:
    from vigil.adapters.notify.sns import SnsPublisher

    return SnsPublisher(topic_arn, public_url)  # one boto3 client per warm Lambda


def publisher_for(ctx: AppContext) -> Publisher:
    """SNS when an alerts topic is configured (AWS), else the in-process dispatcher (local mode)."""
    if ctx.config.alerts_topic_arn:
        return _sns_publisher(ctx.config.alerts_topic_arn, ctx.config.links_url)
    # local mode only: the notifiers (smtplib, the HTTP client, ...) stay off the alerts cold start
    from vigil.alerting.local_delivery import LocalDispatcher

    return LocalDispatcher(ctx.store, ctx.config)


@lru_cache(maxsize=4)
def _sns_subscriptions(topic_arn: str) -> Subscriptions:
    from vigil.adapters.notify.sns import SnsSubscriptions

    return SnsSubscriptions(topic_arn)


def subscriptions_for(ctx: AppContext) -> Subscriptions | None:
    """AWS: e-mail/SMS channels become subscriptions of the alerts topic. Local mode: None (e-mail goes
    over SMTP and SMS is recorded undelivered, both by `deliver`)."""
    if ctx.config.alerts_topic_arn:
        return _sns_subscriptions(ctx.config.alerts_topic_arn)
    return None


def evaluate_now(ctx: AppContext, now: float | None = None, run: EvalRun = "all") -> EvaluationReport:
    """One evaluator tick: seeds the default rules on first start, then evaluates every rule of `run`
    (local mode: all of them every tick) and, but in the hourly run, forgets dead letters past their
    retention (hourly)."""
    now = ctx.clock.now() if now is None else now
    ensure_default_rules(ctx.store, ctx.config)
    report = run_evaluation(
        ctx.store,
        publisher_for(ctx),
        None,
        now,
        evaluation_period=ctx.config.evaluation_period_seconds,
        run=run,
    )
    if report.transitions:  # open dashboards re-read their alerts now, not at their next poll
        ctx.changes.alerts_changed()
    if run != "hourly":
        dead_letters.maybe_purge(ctx.store, now, ctx.config.dead_letter_retention_days * 86400.0)
    return report


@lru_cache(maxsize=4)
def _sqs_dead_letters(queue_url: str) -> DeadLetterQueue:
    from vigil.adapters.notify.dlq import SqsDeadLetterQueue

    return SqsDeadLetterQueue(queue_url)


def dead_letter_queue_for(ctx: AppContext) -> DeadLetterQueue | None:
    """AWS: the notify function's SQS dead-letter queue, imported into the dead-letter list on read.
    Local mode: None (the local dispatcher writes dead letters itself)."""
    if ctx.config.notify_dlq_url:
        return _sqs_dead_letters(ctx.config.notify_dlq_url)
    return None


def scheduled_evaluation(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The alerts function's EventBridge jobs. Every minute (EventBridge's default event): the due
    synthetic checks (within `VIGIL_CHECKS_BUDGET`), then the evaluator over every rule but the hourly
    ones (so a check's result counts in the same minute), then the public status page when something
    changed or an hour has passed. Hourly (`HOURLY_DETAIL`, infra/alerting.py): the hourly rules
    (`windows.hourly`: forecasts over settled rollups) in an invocation of their own, so the minute
    tick reads each host once (docs/alerting.md, "Evaluation schedule").

    Raises:
        Invalid: `detail` asks for an evaluation other than the hourly one.
    """
    from vigil.services.check_runner import RunReport, run_due
    from vigil.services.status_page import publish_if_due

    detail = event.get("detail") or {}
    if detail.get("evaluate", "minute") not in ("minute", "hourly"):
        raise Invalid("evaluate must be minute or hourly", field="evaluate")
    hourly = detail.get("evaluate") == "hourly"
    ctx = app_context()
    now = ctx.clock.now()
    checks = RunReport() if hourly else run_due(ctx.store, ctx.config, now)
    report = evaluate_now(ctx, now, "hourly" if hourly else "minute")
    published = publish_if_due(ctx, now, changed=checks.changed or report.transitions > 0)
    return {
        "checks_ran": len(checks.ran),
        "checks_down": checks.down,
        "checks_skipped": len(checks.skipped),
        "status_page": published,
        "evaluated": report.evaluated,
        "transitions": report.transitions,
        "published": len(report.published),
        "publish_failures": len(report.publish_failures),
        "failed_rules": sorted(report.failed),
    }
