"""The meta-table half of `DynamoStore`: API keys, error groups and JSON documents.

Items (pk / sk): `KEY`/`<id>` and `KEYHASH`/`<secret hash>` (the full record in both, written together
in a transaction, so authenticating a request is one GetItem); `ERRGROUP`/`<fingerprint>` (UpdateItem
with ADD, so concurrent reporters never lose a count); `DOC#<kind>`/`<id>` (the document as a JSON
string plus `_version`, optimistic concurrency through condition expressions). Same semantics as
`SqliteStore` (the contract suite checks both). Must not import boto3 at module level.
"""

from __future__ import annotations

import contextlib
import json
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from vigil.adapters.store.dynamodb_io import ConditionFailed, DynamoIO, Item, n, num, s
from vigil.adapters.store.sealed_docs import open_fields, seal_fields
from vigil.domain.errors import Conflict, NotFound
from vigil.domain.models import ApiKeyRecord, ErrorEvent, ErrorGroup
from vigil.ports import FieldSealer


class MetaItems:
    io: DynamoIO
    meta_table: str
    sealer: FieldSealer | None  # encrypts channel secrets at rest (sealed_docs); None: stored as given

    # -- keys ------------------------------------------------------------------------------------
    def put_key(self, record: ApiKeyRecord) -> None:
        attrs: Item = {
            "id": s(record.id),
            "name": s(record.name),
            "role": s(record.role),
            "secret_hash": s(record.secret_hash),
            "created_at": n(record.created_at),
            "revoked": {"BOOL": record.revoked},
        }
        if record.last_used_at is not None:
            attrs["last_used_at"] = n(record.last_used_at)
        self.io.call(
            "transact_write_items",
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.meta_table,
                        "Item": {"pk": s("KEY"), "sk": s(record.id), **attrs},
                    }
                },
                {
                    "Put": {
                        "TableName": self.meta_table,
                        "Item": {"pk": s("KEYHASH"), "sk": s(record.secret_hash), **attrs},
                    }
                },
            ],
        )

    def find_key(self, secret_hash: str) -> ApiKeyRecord | None:
        # Strongly consistent: a key revoked a moment ago must already be refused.
        got = self.io.call(
            "get_item",
            TableName=self.meta_table,
            ConsistentRead=True,
            Key={"pk": s("KEYHASH"), "sk": s(secret_hash)},
        )
        return _key(got["Item"]) if "Item" in got else None

    def list_keys(self) -> list[ApiKeyRecord]:
        keys = [_key(it) for it in self.io.query(self.meta_table, "KEY", consistent=True)]
        return sorted(keys, key=lambda k: k.created_at)

    def revoke_key(self, key_id: str) -> ApiKeyRecord:
        got = self.io.call(
            "get_item", TableName=self.meta_table, ConsistentRead=True, Key={"pk": s("KEY"), "sk": s(key_id)}
        )
        if "Item" not in got:
            raise NotFound(f"no key with id {key_id!r}", field="id")
        record = _key(got["Item"])
        update = {
            "UpdateExpression": "SET revoked = :t",
            "ExpressionAttributeValues": {":t": {"BOOL": True}},
            "ConditionExpression": "attribute_exists(pk)",
            "TableName": self.meta_table,
        }
        try:
            self.io.call(
                "transact_write_items",
                TransactItems=[
                    {"Update": {**update, "Key": {"pk": s("KEY"), "sk": s(key_id)}}},
                    {"Update": {**update, "Key": {"pk": s("KEYHASH"), "sk": s(record.secret_hash)}}},
                ],
            )
        except ConditionFailed as exc:  # deleted between the read and the write
            raise NotFound(f"no key with id {key_id!r}", field="id") from exc
        return ApiKeyRecord(
            record.id,
            record.name,
            record.role,
            record.secret_hash,
            record.created_at,
            True,
            record.last_used_at,
        )

    # -- errors ----------------------------------------------------------------------------------
    def record_errors(self, events: Sequence[ErrorEvent]) -> None:
        """One UpdateItem per fingerprint in the call (events are folded first)."""
        groups: OrderedDict[str, list[ErrorEvent]] = OrderedDict()
        for e in events:
            groups.setdefault(e.fingerprint, []).append(e)
        for fingerprint, evs in groups.items():
            self._update_group(fingerprint, evs)

    def _update_group(self, fingerprint: str, evs: list[ErrorEvent]) -> None:
        key = {"pk": s("ERRGROUP"), "sk": s(fingerprint)}
        first = min(e.ts for e in evs)
        latest = max(reversed(evs), key=lambda e: e.ts)  # ties: the later event wins, as in SQLite
        stack = next((e.stack for e in evs if e.stack is not None), None)
        trace = next((e.trace_id for e in reversed(evs) if e.trace_id is not None), None)
        sets = ["#t = if_not_exists(#t, :type)", "first_seen = if_not_exists(first_seen, :first)"]
        values: Item = {":type": s(evs[0].type), ":first": n(first), ":n": n(len(evs))}
        for attr, value in (("service", evs[0].service), ("sample_stack", stack)):
            if value is not None:  # first one recorded stays
                sets.append(f"{attr} = if_not_exists({attr}, :{attr})")
                values[f":{attr}"] = s(value)
        if trace is not None:
            sets.append("last_trace_id = :trace")
            values[":trace"] = s(trace)
        common = {
            "TableName": self.meta_table,
            "Key": key,
            "ExpressionAttributeNames": {"#t": "type", "#c": "count"},
            "ReturnValues": "ALL_NEW",
        }
        newest = ["last_seen = :last", "message = :msg"]
        newest_values: Item = {":last": n(latest.ts), ":msg": s(latest.message)}
        remove = ""
        if latest.host is not None:
            newest.append("last_host = :host")
            newest_values[":host"] = s(latest.host)
        else:  # the newest event names no host: forget the older one, as SqliteStore does
            remove = " REMOVE last_host"
        try:  # the newest event's fields only if it is newer than what is stored (no max() in DynamoDB)
            got = self.io.call(
                "update_item",
                **common,
                UpdateExpression=f"SET {', '.join(sets + newest)}{remove} ADD #c :n",
                ConditionExpression="attribute_not_exists(last_seen) OR last_seen <= :last",
                ExpressionAttributeValues={**values, **newest_values},
            )
        except ConditionFailed:
            got = self.io.call(
                "update_item",
                **common,
                UpdateExpression=f"SET {', '.join(sets)} ADD #c :n",
                ExpressionAttributeValues=values,
            )
        if float(got["Attributes"]["first_seen"]["N"]) > first:  # an older event arrived late
            with contextlib.suppress(ConditionFailed):  # an even older one won meanwhile
                self.io.call(
                    "update_item",
                    TableName=self.meta_table,
                    Key=key,
                    UpdateExpression="SET first_seen = :f",
                    ConditionExpression="first_seen > :f",
                    ExpressionAttributeValues={":f": n(first)},
                )

    def list_error_groups(self, since: float, limit: int = 100) -> list[ErrorGroup]:
        groups = [_group(it) for it in self.io.query(self.meta_table, "ERRGROUP")]
        recent = [g for g in groups if g.last_seen >= since]
        return sorted(recent, key=lambda g: g.last_seen, reverse=True)[:limit]

    # -- documents -------------------------------------------------------------------------------
    def put_doc(
        self, kind: str, doc_id: str, doc: dict[str, Any], *, expected_version: int | None = None
    ) -> dict[str, Any]:
        body = {k: v for k, v in doc.items() if k != "_version"}
        key = {"pk": s(f"DOC#{kind}"), "sk": s(doc_id)}
        text = s(json.dumps(seal_fields(kind, doc_id, body, self.sealer)))
        try:
            if expected_version is None:
                got = self.io.call(
                    "update_item",
                    TableName=self.meta_table,
                    Key=key,
                    UpdateExpression="SET body = :b ADD #v :one",
                    ReturnValues="UPDATED_NEW",
                    ExpressionAttributeNames={"#v": "_version"},
                    ExpressionAttributeValues={":b": text, ":one": n(1)},
                )
                version = int(got["Attributes"]["_version"]["N"])
            elif expected_version == 0:
                self.io.call(
                    "put_item",
                    TableName=self.meta_table,
                    ConditionExpression="attribute_not_exists(pk)",
                    Item={**key, "body": text, "_version": n(1)},
                )
                version = 1
            else:
                version = expected_version + 1
                self.io.call(
                    "update_item",
                    TableName=self.meta_table,
                    Key=key,
                    UpdateExpression="SET body = :b, #v = :new",
                    ConditionExpression="#v = :old",
                    ExpressionAttributeNames={"#v": "_version"},
                    ExpressionAttributeValues={":b": text, ":new": n(version), ":old": n(expected_version)},
                )
        except ConditionFailed as exc:
            raise Conflict(
                f"{kind} {doc_id!r} was changed by someone else (expected version {expected_version})",
                field="_version",
            ) from exc
        return {**body, "_version": version}

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
        doc = _doc(item)
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
        return "Attributes" in got


def _str(item: Item, name: str) -> str | None:
    attr = item.get(name)
    return None if attr is None else str(attr["S"])


def _key(it: Item) -> ApiKeyRecord:
    return ApiKeyRecord(
        it["id"]["S"],
        it["name"]["S"],
        it["role"]["S"],
        it["secret_hash"]["S"],
        float(it["created_at"]["N"]),
        bool(it["revoked"]["BOOL"]),
        num(it.get("last_used_at")),
    )


def _group(it: Item) -> ErrorGroup:
    return ErrorGroup(
        it["sk"]["S"],
        it["type"]["S"],
        _str(it, "message") or "",
        _str(it, "service"),
        int(it["count"]["N"]),
        float(it["first_seen"]["N"]),
        float(it["last_seen"]["N"]),
        _str(it, "sample_stack"),
        _str(it, "last_host"),
        _str(it, "last_trace_id"),
    )


def _doc(it: Item) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(it["body"]["S"])
    return {**body, "_version": int(it["_version"]["N"])}
