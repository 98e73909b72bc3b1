"""Retention of alerting's records (issue 11.5): alert history, inbox notifications, delivery and
publish records older than their configured retention are purged on both stores by the local
retention job's `purge_records`, and in DynamoDB each carries a TTL (`expires_at`) counted from its
own timestamp, so AWS deletes them without listing anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vigil.adapters.store.dynamodb import DynamoStore
from vigil.alerting.repo import DELIVERY_KIND, HISTORY_KIND, INBOX_KIND, OUT_KIND
from vigil.alerting.retention import purge_records
from vigil.config import Config
from vigil.local.jobs import retention_job
from vigil.wiring import AppContext

DAY = 86400.0
T0 = 1_764_000_000.0
CONFIG = Config(alert_history_days=30, inbox_days=10, delivery_days=2)
STAMPS = {HISTORY_KIND: "at", INBOX_KIND: "received_at", DELIVERY_KIND: "at", OUT_KIND: "published_at"}


def seed(store: Any) -> None:
    """Per kind: one record 1 day old, one 5 days old, one 20 days old and one 40 days old."""
    for kind, stamp in STAMPS.items():
        for age in (1, 5, 20, 40):
            store.put_doc(kind, f"{kind}-{age}", {"id": f"{kind}-{age}", stamp: T0 - age * DAY})


def test_records_past_their_kinds_retention_are_purged_and_the_rest_kept(store: Any) -> None:
    seed(store)
    removed = purge_records(store, CONFIG.record_retention, T0)
    kept = {
        kind: sorted(int(str(d["id"]).rsplit("-", 1)[1]) for d in store.list_docs(kind)) for kind in STAMPS
    }
    assert kept == {HISTORY_KIND: [1, 5, 20], INBOX_KIND: [1, 5], DELIVERY_KIND: [1], OUT_KIND: [1]}
    assert removed == 1 + 2 + 3 + 3
    assert purge_records(store, CONFIG.record_retention, T0) == 0


def test_dynamodb_stamps_a_ttl_from_each_records_own_timestamp(
    moto_client: Any, tables: tuple[str, str]
) -> None:
    store = DynamoStore(*tables, 7 * DAY, client=moto_client, doc_ttl=CONFIG.record_retention)
    seed(store)
    store.put_doc("dashboard", "d1", {"id": "d1", "at": T0})  # not a retained kind: no TTL
    items = moto_client.scan(TableName=tables[1])["Items"]
    ttl = {it["sk"]["S"]: float(it["expires_at"]["N"]) for it in items if "expires_at" in it}
    assert ttl[f"{HISTORY_KIND}-1"] == T0 - DAY + 30 * DAY
    assert ttl[f"{INBOX_KIND}-5"] == T0 - 5 * DAY + 10 * DAY
    assert ttl[f"{DELIVERY_KIND}-20"] == T0 - 20 * DAY + 2 * DAY
    assert ttl[f"{OUT_KIND}-40"] == T0 - 40 * DAY + 2 * DAY
    assert "d1" not in ttl and len(ttl) == 16
    store.put_doc(INBOX_KIND, f"{INBOX_KIND}-1", {"id": "x", "received_at": T0}, expected_version=1)
    again = moto_client.get_item(
        TableName=tables[1], Key={"pk": {"S": f"DOC#{INBOX_KIND}"}, "sk": {"S": f"{INBOX_KIND}-1"}}
    )
    assert float(again["Item"]["expires_at"]["N"]) == T0 + 10 * DAY  # a rewrite restamps it


def test_the_local_retention_job_purges_records_with_the_configured_retention(tmp_path: Path) -> None:
    ctx = AppContext(CONFIG.with_(data_dir=tmp_path / "data"))
    seed(ctx.store)
    report = retention_job(ctx, T0)
    assert report == {"samples": 0, "records": 9}
    assert len(ctx.store.list_docs(HISTORY_KIND)) == 3
    ctx.store.close()


def test_retention_days_come_from_the_environment() -> None:
    config = Config.from_env(
        {"VIGIL_ALERT_HISTORY_DAYS": "90", "VIGIL_INBOX_DAYS": "14", "VIGIL_DELIVERY_DAYS": "3"}
    )
    assert config.record_retention[HISTORY_KIND] == (90 * DAY, "at")
    assert config.record_retention[INBOX_KIND] == (14 * DAY, "received_at")
    assert config.record_retention[DELIVERY_KIND] == (3 * DAY, "at")
    assert config.record_retention[OUT_KIND] == (3 * DAY, "published_at")
    assert Config().record_retention[HISTORY_KIND][0] == 30 * DAY
