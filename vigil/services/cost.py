"""Cost readout use cases: hourly usage documents in the store, and `GET /api/cost` from them.

Usage is kept as one document per hour (kind `cost_usage`, id = the hour's start, 10 digits), written
in AWS by the metrics function's hourly job from CloudWatch metrics (`collect_cloudwatch_usage`) and
locally by the server's usage meter (`vigil.local.usage_meter`), which adds to the current hour's
document every scheduler tick. Documents expire after 31 days (`Config.record_retention`).

Must not import boto3 at module level (the CloudWatch reader is imported when the job runs).
"""

from __future__ import annotations

import logging
import math
from typing import Any

from vigil.config import Config
from vigil.domain.cost import WINDOWS, Usage, readout
from vigil.domain.errors import Invalid
from vigil.domain.pricing import pricing_for
from vigil.ports import Store

USAGE_KIND = "cost_usage"
WATERMARK_KIND, WATERMARK_ID = "cost_state", "watermark"
CATCH_UP_HOURS = 48  # a job that failed for a while collects at most this many missed hours
# AWS publishes some of these metrics minutes late (Logs IncomingBytes, SNS): an hour is read once it
# ended this long ago, so a run at hh:05 reads the hour before last and hh:10 the last one.
SETTLE_SECONDS = 600.0
log = logging.getLogger("vigil.cost")


def hour_of(ts: float) -> float:
    return math.floor(ts / 3600.0) * 3600.0


def hour_id(hour: float) -> str:
    return f"{int(hour):010d}"


def put_usage(store: Store, hour: float, usage: Usage) -> None:
    """Replace the usage of `hour` (the CloudWatch job writes each complete hour once)."""
    store.put_doc(USAGE_KIND, hour_id(hour), {"hour": hour, **usage.to_doc()})


def add_usage(store: Store, hour: float, usage: Usage) -> None:
    """Add to the usage of `hour` (the local meter flushes the current hour in pieces)."""
    stored = store.get_doc(USAGE_KIND, hour_id(hour))
    put_usage(store, hour, usage + Usage.from_doc(stored) if stored else usage)


def cost_readout(store: Store, config: Config, window: str, now: float) -> dict[str, Any]:
    """The `GET /api/cost` body: usage of the hours inside `window`, the hosts that reported in it.

    Raises:
        Invalid: `window` is not `24h` or `30d` (field `window`).
    """
    if window not in WINDOWS:
        raise Invalid(f"window must be one of {', '.join(WINDOWS)}, got {window[:20]!r}", field="window")
    since = now - WINDOWS[window]
    usage = Usage()
    for doc in store.list_docs(USAGE_KIND):
        # an hour starting up to an hour before `since` ended inside the window (AWS's newest complete
        # hour ends at most an hour ago, so 24 documents make a day)
        if since - 3600.0 < float(doc.get("hour", 0.0)) <= now:
            usage = usage + Usage.from_doc(doc)
    hosts = sum(1 for h in store.list_hosts() if h.last_seen >= since)
    return readout(window, usage, hosts, pricing_for(config.pricing_region))


def collect_cloudwatch_usage(store: Store, config: Config, now: float) -> dict[str, Any]:
    """The hourly job's part in AWS: every hour that ended `SETTLE_SECONDS` ago or earlier since the
    last collected one (at most `CATCH_UP_HOURS`) read from CloudWatch and stored as a usage
    document. Nothing when the function has no `VIGIL_COST_*` settings (local mode, other jobs'
    tests)."""
    sources = config.cost_sources
    if sources is None:
        return {"cost": "no CloudWatch sources configured"}
    from vigil.adapters.cloudwatch_usage import CloudWatchUsage

    last_complete = hour_of(now - SETTLE_SECONDS) - 3600.0
    state = store.get_doc(WATERMARK_KIND, WATERMARK_ID) or {}
    first = max(
        float(state.get("hour", last_complete - 3600.0)) + 3600.0, last_complete - 3600.0 * CATCH_UP_HOURS
    )
    hours = [first + 3600.0 * i for i in range(int((last_complete - first) / 3600.0) + 1)]
    if not hours:
        return {"cost": "already collected"}
    reader = CloudWatchUsage(
        sources, config.samples_table_name, config.meta_table_name, config.alerts_topic_arn
    )
    for hour, usage in reader.hours(hours[0], hours[-1] + 3600.0).items():
        put_usage(store, hour, usage)
    store.put_doc(WATERMARK_KIND, WATERMARK_ID, {"hour": hours[-1]})
    return {"cost_hours": len(hours)}
