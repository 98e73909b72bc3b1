"""The meta-table half of `DynamoStore`: API keys, error groups and JSON documents.

Items (pk / sk): `KEY`/`<id>` and `KEYHASH`/`<secret hash>` (the full record in both, written together
in a transaction, so authenticating a request is one GetItem); `ERRGROUP`/`<fingerprint>` (UpdateItem
with ADD, so concurrent reporters never lose a count); `DOC#<kind>`/`<id>` (the document as a JSON
string plus `_version`, optimistic concurrency through condition expressions; a document whose JSON
passes `sizing.MAX_ITEM_BYTES` is stored compressed in `DOCPART#<kind>`/`<id>#<write token>#<n>` items,
the document item holding only `parts`, `pt` (the token) and `_version`). Same semantics as
`SqliteStore` (the contract suite checks both). Must not import boto3 at module level.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
import uuid
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from vigil.adapters.store.dynamodb_io import ConditionFailed, DynamoIO, Item, n, num, s
from vigil.adapters.store.sealed_docs import open_fields, seal_fields
from vigil.adapters.store.sizing import MAX_ITEM_BYTES, split_bytes
from vigil.domain.errors import Conflict, NotFound
from vigil.domain.models import ApiKeyRecord, ErrorEvent, ErrorGroup
from vigil.ports import FieldSealer


class MetaItems:
    io: DynamoIO
    meta_table: str
    doc_ttl: dict[str, tuple[float, str]]
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

    def touch_key(self, key_id: str, at: float) -> None:
        """One UpdateItem on the `KEY` item (what `list_keys` reads); the `KEYHASH` copy that
        authentication reads is not rewritten: it needs no usage time."""
        with contextlib.suppress(ConditionFailed):  # gone, or marked later by another container
            self.io.call(
                "update_item",
                TableName=self.meta_table,
                Key={"pk": s("KEY"), "sk": s(key_id)},
                UpdateExpression="SET last_used_at = :t",
                ConditionExpression="attribute_exists(pk) AND "
                "(attribute_not_exists(last_used_at) OR last_used_at < :t)",
                ExpressionAttributeValues={":t": n(at)},
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
