"""Retention of alerting's records: alert history, the in-app inbox, delivery and publish records
(`Config.record_retention`: kind → days kept and the timestamp they count from; defaults and settings
in `docs/alerting.md`).

In AWS each such document carries a DynamoDB TTL (`expires_at`, stamped by `DynamoStore.put_doc`), so
nothing has to list them. Locally the scheduler's retention job calls `purge_records` hourly.
Dead letters are kept apart (their own list and retention).

Imports: `vigil.ports`.
"""

from __future__ import annotations

from collections.abc import Mapping

from vigil.ports import Store


def purge_records(store: Store, retention: Mapping[str, tuple[float, str]], now: float) -> int:
    """Delete every retained document older than its kind's retention; returns how many. A document
    without its timestamp is kept (nothing says it is old)."""
    removed = 0
    for kind, (seconds, stamp) in retention.items():
        for doc in store.list_docs(kind):
            at = doc.get(stamp)
            if isinstance(at, int | float) and now - float(at) > seconds and "id" in doc:
                removed += store.delete_doc(kind, str(doc["id"]))
    return removed
