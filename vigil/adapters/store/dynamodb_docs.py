"""The documents half of `DynamoStore`'s meta table: `DOC#<kind>`/`<id>` holds the document as a JSON
string plus `_version` (optimistic concurrency through condition expressions); a document whose JSON
passes `sizing.MAX_ITEM_BYTES` is stored compressed in `DOCPART#<kind>`/`<id>#<write token>#<n>` items,
the document item holding only `parts`, `pt` (the token) and `_version`. Retained kinds carry a TTL;
channel secrets are sealed (`sealed_docs`). Same semantics as `SqliteStore` (the contract suite checks
both). Must not import boto3 at module level.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
import uuid
import zlib
from typing import Any

from vigil.adapters.store.dynamodb_io import ConditionFailed, Item, n, num, s
from vigil.adapters.store.dynamodb_parts import Tables
from vigil.adapters.store.sealed_docs import open_fields, seal_fields
from vigil.adapters.store.sizing import MAX_ITEM_BYTES, split_bytes
from vigil.domain.errors import Conflict
from vigil.ports import FieldSealer


class DocItems:
    """JSON documents: an owned part of the store (`dynamodb_parts`). `doc_ttl`: document kind →
    (seconds kept, timestamp field); `sealer` encrypts channel secrets at rest (`sealed_docs`; None:
    stored as given)."""

    def __init__(
        self, tables: Tables, doc_ttl: dict[str, tuple[float, str]], sealer: FieldSealer | None
    ) -> None:
        self.io = tables.io
        self.meta_table = tables.meta
        self.doc_ttl = doc_ttl
        self.sealer = sealer

    # -- documents -------------------------------------------------------------------------------
    def put_doc(
        self, kind: str, doc_id: str, doc: dict[str, Any], *, expected_version: int | None = None
    ) -> dict[str, Any]:
        body = {k: v for k, v in doc.items() if k != "_version"}
        text = json.dumps(seal_fields(kind, doc_id, body, self.sealer))
        if len(text.encode()) > MAX_ITEM_BYTES:
            return {**body, "_version": self._put_large_doc(kind, doc_id, text, expected_version)}
        key = {"pk": s(f"DOC#{kind}"), "sk": s(doc_id)}
        ttl, ttl_values = self._ttl(kind, body)
        try:
            if expected_version is None:
                got = self.io.call(
                    "update_item",
                    TableName=self.meta_table,
                    Key=key,
                    UpdateExpression=f"SET body = :b{ttl} REMOVE parts, pt ADD #v :one",
                    ReturnValues="ALL_OLD",
                    ExpressionAttributeNames={"#v": "_version"},
                    ExpressionAttributeValues={":b": s(text), ":one": n(1), **ttl_values},
                )
                version = int(num(got.get("Attributes", {}).get("_version")) or 0) + 1
            elif expected_version == 0:
                self.io.call(
                    "put_item",
                    TableName=self.meta_table,
                    ConditionExpression="attribute_not_exists(pk)",
                    Item={**key, "body": s(text), "_version": n(1), **_ttl_item(ttl_values)},
                )
                got, version = {}, 1
            else:
                version = expected_version + 1
                got = self.io.call(
                    "update_item",
                    TableName=self.meta_table,
                    Key=key,
                    UpdateExpression=f"SET body = :b, #v = :new{ttl} REMOVE parts, pt",
                    ConditionExpression="#v = :old",
                    ReturnValues="ALL_OLD",
                    ExpressionAttributeNames={"#v": "_version"},
                    ExpressionAttributeValues={
                        ":b": s(text),
                        ":new": n(version),
                        ":old": n(expected_version),
                        **ttl_values,
                    },
                )
        except ConditionFailed as exc:
            raise _conflict(kind, doc_id, expected_version) from exc
        self._drop_parts(kind, doc_id, got.get("Attributes"))
        return {**body, "_version": version}

    def _put_large_doc(self, kind: str, doc_id: str, text: str, expected_version: int | None) -> int:
        """A document whose JSON passes the item bound: compressed, cut into `DOCPART#<kind>` items
        keyed by a fresh write token, written first; then the document item (`parts`, no `body`) under
        the same version condition as a small one, so readers see the old parts or the new, never a
        mix. Each write's parts carry a fresh token (`pt`), so a write that loses the condition never
        touches the parts of the one that won; its own parts, and those of the replaced version, are
        deleted."""
        for _ in range(3):  # unconditional put: read the version, then write as if it was expected
            expected = self._stored_version(kind, doc_id) if expected_version is None else expected_version
            version, token = expected + 1, uuid.uuid4().hex[:12]
            parts = split_bytes(zlib.compress(text.encode(), 6))
            part_items = [
                {"pk": s(f"DOCPART#{kind}"), "sk": s(_part_sk(doc_id, token, k)), "d": {"B": data}}
                for k, data in enumerate(parts)
            ]
            self.io.batch_put(self.meta_table, part_items)
            key = {"pk": s(f"DOC#{kind}"), "sk": s(doc_id)}
            try:
                got = self.io.call(
                    "update_item",
                    TableName=self.meta_table,
                    Key=key,
                    UpdateExpression="SET parts = :p, pt = :t, #v = :new REMOVE body",
                    ConditionExpression="attribute_not_exists(pk)" if expected == 0 else "#v = :old",
                    ReturnValues="ALL_OLD",
                    ExpressionAttributeNames={"#v": "_version"},
                    ExpressionAttributeValues={
                        ":p": n(len(parts)),
                        ":t": s(token),
                        ":new": n(version),
                        **({} if expected == 0 else {":old": n(expected)}),
                    },
                )
            except ConditionFailed as exc:
                self._drop_parts(kind, doc_id, {"parts": n(len(parts)), "pt": s(token)})
                if expected_version is None:
                    continue  # someone wrote meanwhile: an unconditional put simply goes again
                raise _conflict(kind, doc_id, expected_version) from exc
            self._drop_parts(kind, doc_id, got.get("Attributes"))
            return version
        raise Conflict(f"{kind} {doc_id!r} kept changing while it was being written", field="_version")

    def _ttl(self, kind: str, body: dict[str, Any]) -> tuple[str, Item]:
        """The `SET` fragment and value stamping a retained kind's TTL (`expires_at`), from the
        document's own timestamp (write time without one)."""
        if kind not in self.doc_ttl:
            return "", {}
        seconds, field_name = self.doc_ttl[kind]
        stamp = body.get(field_name)
        start = float(stamp) if isinstance(stamp, int | float) else time.time()
        return ", expires_at = :ttl", {":ttl": n(math.ceil(start + seconds))}

    def _stored_version(self, kind: str, doc_id: str) -> int:
        got = self.io.call(
            "get_item",
            TableName=self.meta_table,
            ConsistentRead=True,
            Key={"pk": s(f"DOC#{kind}"), "sk": s(doc_id)},
            ProjectionExpression="#v",
            ExpressionAttributeNames={"#v": "_version"},
        )
        return int(num(got.get("Item", {}).get("_version")) or 0)

    def _drop_parts(self, kind: str, doc_id: str, old: Item | None) -> None:
        """Delete the part items of a document version that is no longer stored."""
        if not old or "parts" not in old:
            return
        for k in range(int(old["parts"]["N"])):
            self.io.call(
                "delete_item",
                TableName=self.meta_table,
                Key={"pk": s(f"DOCPART#{kind}"), "sk": s(_part_sk(doc_id, old["pt"]["S"], k))},
            )

    def _doc(self, kind: str, it: Item) -> dict[str, Any]:
        version = int(it["_version"]["N"])
        if "parts" not in it:
            body: dict[str, Any] = json.loads(it["body"]["S"])
            return {**body, "_version": version}
        doc_id = it["sk"]["S"]
        prefix = _part_sk(doc_id, it["pt"]["S"], 0)[:-4]
        data = b"".join(
            bytes(p["d"]["B"])
            for p in self.io.query(
                self.meta_table,
                f"DOCPART#{kind}",
                sk_condition="begins_with(sk, :prefix)",
                values={":prefix": s(prefix)},
                consistent=True,
            )
        )
        return {**json.loads(zlib.decompress(data)), "_version": version}

    def get_doc(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        got = self.io.call(
            "get_item",
            TableName=self.meta_table,
            ConsistentRead=True,
            Key={"pk": s(f"DOC#{kind}"), "sk": s(doc_id)},
        )
        return self._opened(kind, got["Item"]) if "Item" in got else None

    def list_docs(self, kind: str) -> list[dict[str, Any]]:
        # Query returns sort-key order, i.e. by id, like SqliteStore.
        items = self.io.query(self.meta_table, f"DOC#{kind}", consistent=True)
        return [self._opened(kind, it) for it in items]

    def _opened(self, kind: str, item: Item) -> dict[str, Any]:
        """The document with its secret fields decrypted. One written before encryption existed is
        re-written sealed (once; a concurrent writer's newer version wins)."""
        doc = self._doc(kind, item)
        opened, clear = open_fields(kind, str(item["sk"]["S"]), doc, self.sealer)
        if clear and self.sealer is not None:
            with contextlib.suppress(Conflict):
                self.put_doc(kind, item["sk"]["S"], opened, expected_version=doc["_version"])
                opened["_version"] = doc["_version"] + 1
        return opened

    def delete_doc(self, kind: str, doc_id: str) -> bool:
        got = self.io.call(
            "delete_item",
            TableName=self.meta_table,
            Key={"pk": s(f"DOC#{kind}"), "sk": s(doc_id)},
            ReturnValues="ALL_OLD",
        )
        self._drop_parts(kind, doc_id, got.get("Attributes"))
        return "Attributes" in got


def _ttl_item(values: Item) -> Item:
    return {"expires_at": values[":ttl"]} if values else {}


def _part_sk(doc_id: str, token: str, part: int) -> str:
    return f"{doc_id}#{token}#{part:04d}"


def _conflict(kind: str, doc_id: str, expected_version: int | None) -> Conflict:
    return Conflict(
        f"{kind} {doc_id!r} was changed by someone else (expected version {expected_version})",
        field="_version",
    )
