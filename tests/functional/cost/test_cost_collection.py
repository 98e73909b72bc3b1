"""The hourly usage collection in the metrics function's scheduled job (AWS path, on moto): a failing
CloudWatch read neither stops the rollups nor loses the hour — the next run collects it."""

from __future__ import annotations

import math
import time
from typing import Any

from tests.conftest import FrozenClock
from vigil.adapters.store.dynamodb import DynamoStore, create_tables
from vigil.config import Config, CostSources
from vigil.local.gateway import Gateway, LocalLambdaContext
from vigil.services.cost import SETTLE_SECONDS, USAGE_KIND, WATERMARK_ID, WATERMARK_KIND
from vigil.wiring import AppContext, bind

SCHEDULED = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
SOURCES = CostSources(functions=(("vigil-dev-metrics", 1024),), api_id="abc", log_groups=())


def _run_job(config: Config, store: DynamoStore, now: float) -> dict[str, Any]:
    ctx = AppContext(config, clock=FrozenClock(now), _store=store)
    with bind(ctx):
        result: dict[str, Any] = Gateway(ctx).handler_for("metrics")(SCHEDULED, LocalLambdaContext("metrics"))
    return result


def test_a_failed_collection_is_logged_the_rollups_still_run_and_the_next_run_catches_up(
    moto_env: None,
) -> None:
    import boto3

    create_tables(boto3.client("dynamodb", region_name="us-east-1"), "cost-samples", "cost-meta")
    config = Config(
        store="dynamodb", samples_table="cost-samples", meta_table="cost-meta", cost_sources=SOURCES
    )
    store = DynamoStore("cost-samples", "cost-meta", config.retention_seconds)
    hour = math.floor(time.time() / 3600) * 3600 - 3600.0
    now = hour + 3600 + SETTLE_SECONDS  # the hour before this one has settled
    # The store is fine but the tables the job sizes (DescribeTable) are named wrong: moto refuses.
    broken = config.with_(samples_table="missing-samples", meta_table="missing-meta")
    first = _run_job(broken, store, now)
    assert first["cost"] == "failed"
    assert "fleet" in first and "days" in first  # the fleet tier and the rollups ran regardless
    assert store.get_doc(WATERMARK_KIND, WATERMARK_ID) is None and store.list_docs(USAGE_KIND) == []
    later = _run_job(config, store, now + 300)  # the next 5-minute run
    assert later["cost_hours"] == 1
    (doc,) = store.list_docs(USAGE_KIND)
    assert doc["hour"] == hour and doc["seconds"] == 3600
    assert _run_job(config, store, now + 600)["cost"] == "already collected"


def test_an_hour_is_read_only_once_its_late_metrics_have_settled(moto_env: None) -> None:
    import boto3

    create_tables(boto3.client("dynamodb", region_name="us-east-1"), "settle-samples", "settle-meta")
    config = Config(
        store="dynamodb", samples_table="settle-samples", meta_table="settle-meta", cost_sources=SOURCES
    )
    store = DynamoStore("settle-samples", "settle-meta", config.retention_seconds)
    hour = math.floor(time.time() / 3600) * 3600 - 3600.0
    early = _run_job(config, store, hour + 3600 + 300)  # hh:05: the hour that just ended is not read yet
    assert early["cost_hours"] == 1 and store.list_docs(USAGE_KIND)[0]["hour"] == hour - 3600
    assert _run_job(config, store, hour + 3600 + SETTLE_SECONDS)["cost_hours"] == 1  # hh:10: now it is
    assert sorted(d["hour"] for d in store.list_docs(USAGE_KIND)) == [hour - 3600, hour]
