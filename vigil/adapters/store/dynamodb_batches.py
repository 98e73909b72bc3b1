"""Batch claims: how DynamoDB remembers a client's batch key for 24 h whatever the batch's timestamps.

A chunk's sort key starts with the minute of its earliest sample, so a retry whose samples were
stamped with a later receipt time (no `ts`) or that lost some samples lands on other keys: the chunk
marker alone cannot recognise it. A batch carrying a client key (`batch_id` or `Idempotency-Key`)
therefore first claims the key with a conditional put of a small item in the samples table,
`B#<host>` / `<batch hash>`, holding the sort keys of the chunks it is about to write (`c`), when it
claimed (`at`) and `expires_at` = `at` + `IDEMPOTENCY_SECONDS` (TTL).

The claim is written first and the chunk marker last, so a crash never leaves samples without their
claim. A claim whose marker exists means the batch was stored: the retry is a duplicate. A claim
without its marker is an attempt that died before committing (or one still running): once it is older
than `IN_FLIGHT_SECONDS` the next retry takes it over — conditionally, so only one retry does —,
deletes the chunks the dead attempt may have written and writes its own; a younger one answers
`Unavailable` (503, retry later) rather than risk writing the batch twice. Must not import boto3.
"""

from __future__ import annotations

import math

from vigil.adapters.store.chunks import batch_hash
from vigil.adapters.store.dynamodb_io import ConditionFailed, DynamoIO, Item, n, s
from vigil.domain.batches import IDEMPOTENCY_SECONDS
from vigil.domain.errors import Unavailable

# The metrics function times out after 29 s: an unfinished claim older than this has no writer left.
IN_FLIGHT_SECONDS = 30.0


class BatchClaims:
    """Claims of client batch keys in `table` (the samples table)."""

    def __init__(self, io: DynamoIO, table: str) -> None:
        self.io = io
        self.table = table

    def claim(self, host: str, bkey: str, chunk_sks: list[str], now: float) -> bool:
        """True: this call owns the key and must write the chunks; False: the batch was stored before.

        Raises:
            Unavailable: an earlier attempt holding the key may still be writing (retry later), or
                DynamoDB refused.
        """
        key = {"pk": s(f"B#{host}"), "sk": s(batch_hash(bkey))}
        item: Item = {
            **key,
            "at": n(now),
            "c": {"L": [s(sk) for sk in chunk_sks]},
            "expires_at": n(math.ceil(now + IDEMPOTENCY_SECONDS)),
        }
        try:
            self.io.call(
                "put_item", TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
            return True
        except ConditionFailed:
            pass
        old = self.io.call("get_item", TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        if old is None:  # TTL removed it between the two calls: a claim older than 24 h is forgotten
            return self.claim(host, bkey, chunk_sks, now)
        old_sks = [attr["S"] for attr in old["c"]["L"]]
        if self.committed(host, old_sks[0]):
            return False
        old_at = old["at"]["N"]
        if now - float(old_at) < IN_FLIGHT_SECONDS:
            raise Unavailable("an earlier attempt of this batch may still be writing it; retry in a minute")
        try:  # take the abandoned claim over; of several retries doing this at once, one wins
            self.io.call(
                "put_item",
                TableName=self.table,
                Item=item,
                ConditionExpression="#at = :at",
                ExpressionAttributeNames={"#at": "at"},
                ExpressionAttributeValues={":at": {"N": old_at}},
            )
        except ConditionFailed:
            raise Unavailable("another retry of this batch is writing it; retry in a minute") from None
        for sk in set(old_sks) - set(chunk_sks):  # the dead attempt's chunks on other keys
            self.io.call("delete_item", TableName=self.table, Key={"pk": s(f"R#{host}"), "sk": s(sk)})
        return True

    def committed(self, host: str, marker_sk: str) -> bool:
        """Whether the batch whose first chunk is `marker_sk` was stored (one consistent GetItem)."""
        found = self.io.call(
            "get_item",
            TableName=self.table,
            Key={"pk": s(f"R#{host}"), "sk": s(marker_sk)},
            ConsistentRead=True,
            ProjectionExpression="pk",
        )
        return "Item" in found
