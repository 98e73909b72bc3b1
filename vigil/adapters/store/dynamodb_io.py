"""Low-level DynamoDB plumbing for `DynamoStore`: the lazy client, error mapping, paging, batch writes.

Kept apart from the store so the store reads as item design only. botocore is imported only when a
client is built or an error is being classified, never at module import: the Lambda cold start pays
for botocore only on the first store call. Must not import `vigil.api` or `vigil.local`.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from vigil.domain.errors import Unavailable

if TYPE_CHECKING:  # only for readers and type checkers; the real import is lazy
    from botocore.client import BaseClient

Item = dict[str, Any]  # DynamoDB's low-level attribute-value map

BATCH_WRITE_LIMIT = 25  # AWS rejects more per BatchWriteItem; moto accepts 26, so we enforce it
# Codes botocore's adaptive retries already retried; once they reach us the caller should answer 503.
_UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
        "ResourceNotFoundException",
        "TransactionInProgressException",
    }
)


class ConditionFailed(Exception):
    """A ConditionExpression (or a transaction's condition) did not hold; callers decide what it means."""


def build_client() -> BaseClient:
    from vigil.adapters import aws
    from vigil.adapters.store.fanout import READ_CONCURRENCY

    # as many pooled connections as a fanned-out read has requests in flight (botocore's default is 10)
    return aws.client(
        "dynamodb", retry_mode="adaptive", max_attempts=10, max_pool_connections=READ_CONCURRENCY
    )


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: float) -> dict[str, str]:
    # repr() is the shortest string that round-trips a float exactly.
    return {"N": repr(value)}


def num(attr: dict[str, str] | None) -> float | None:
    return None if attr is None else float(attr["N"])


class DynamoIO:
    """Calls one client with uniform error mapping. Thread-safe (botocore clients are)."""

    def __init__(self, client: Any | None) -> None:
        self._client = client
        self._client_lock = threading.Lock()
        # Backoff for UnprocessedItems (full jitter); tests shrink `backoff_base` to stay fast.
        self.backoff_base = 0.05
        self.backoff_cap = 2.0
        self.max_unprocessed_attempts = 8
        self.sleep: Callable[[float], None] = time.sleep

    @property
    def client(self) -> Any:
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = build_client()
        return self._client

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """`client.<operation>(**params)`.

        Raises:
            ConditionFailed: a condition expression or transaction condition did not hold.
            Unavailable: throttled after botocore's retries, unreachable, or the table is missing.
        """
        try:
            result: dict[str, Any] = getattr(self.client, operation)(**params)
        except Exception as exc:
            raise _translate(exc, operation) from exc
        return result

    def query(
        self,
        table: str,
        pk: str,
        *,
        sk_condition: str = "",
        values: Item | None = None,
        forward: bool = True,
        limit: int | None = None,
        consistent: bool = False,
        projection: str | None = None,
    ) -> Iterator[Item]:
        """Items of one partition, following pagination lazily (stop iterating to stop reading)."""
        params: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "pk = :pk" + (f" AND {sk_condition}" if sk_condition else ""),
            "ExpressionAttributeValues": {":pk": s(pk), **(values or {})},
            "ScanIndexForward": forward,
            "ConsistentRead": consistent,
        }
        if limit is not None:
            params["Limit"] = limit
        if projection is not None:
            params["ProjectionExpression"] = projection
        while True:
            page = self.call("query", **params)
            yield from page.get("Items", [])
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            params["ExclusiveStartKey"] = last

    def batch_put(self, table: str, items: list[Item]) -> None:
        """PutRequests in groups of at most 25, retrying UnprocessedItems with bounded backoff.

        Raises:
            Unavailable: items were still unprocessed after `max_unprocessed_attempts` retries.
        """
        for start in range(0, len(items), BATCH_WRITE_LIMIT):
            group = [{"PutRequest": {"Item": it}} for it in items[start : start + BATCH_WRITE_LIMIT]]
            pending: dict[str, Any] = {table: group}
            attempt = 0
            while pending:
                pending = self.call("batch_write_item", RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
                attempt += 1
                if attempt > self.max_unprocessed_attempts:
                    left = sum(len(v) for v in pending.values())
                    raise Unavailable(f"DynamoDB left {left} items unprocessed after {attempt - 1} retries")
                self.sleep(random.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt)))


def _translate(exc: Exception, operation: str) -> Exception:
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ClientError):
        response: dict[str, Any] = exc.response
        code = str(response.get("Error", {}).get("Code", ""))
        if code == "ConditionalCheckFailedException":
            return ConditionFailed(operation)
        if code == "TransactionCanceledException":
            reasons = response.get("CancellationReasons") or []
            # moto omits CancellationReasons; its message names the reason instead
            if any(
                r.get("Code") == "ConditionalCheckFailed" for r in reasons
            ) or "ConditionalCheckFailed" in str(response.get("Error", {}).get("Message", "")):
                return ConditionFailed(operation)
        if code in _UNAVAILABLE_CODES:
            return Unavailable(f"DynamoDB {operation} failed: {code}")
    elif isinstance(exc, BotoCoreError):  # connection errors, timeouts, missing credentials
        return Unavailable(f"DynamoDB {operation} failed: {type(exc).__name__}")
    return exc  # anything else (a validation error) is a bug in this module: let it surface as one


def create_tables(client: Any, samples_table: str, meta_table: str) -> None:
    """Create both tables as the CDK stack defines them (tests, local tooling): pk/sk strings,
    on-demand billing, TTL on `expires_at`."""
    for name in (samples_table, meta_table):
        client.create_table(
            TableName=name,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
        )
