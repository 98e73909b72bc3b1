"""The meta-table half of `DynamoStore`: API keys and error groups (documents: `dynamodb_docs`).

Items (pk / sk): `KEY`/`<id>` and `KEYHASH`/`<secret hash>` (the full record in both, written together
in a transaction, so authenticating a request is one GetItem); `ERRGROUP`/`<fingerprint>` (UpdateItem
with ADD, so concurrent reporters never lose a count, nor an hourly counter `h_<hour>`). Same semantics
as `SqliteStore` (the contract suite checks both). Must not import boto3 at module level.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Sequence

from vigil.adapters.store.dynamodb_io import ConditionFailed, Item, n, num, s
from vigil.adapters.store.dynamodb_parts import Tables
from vigil.domain.errors import NotFound
from vigil.domain.occurrences import hourly_counts, stale_hours
from vigil.domain.records import ApiKeyRecord, ErrorEvent, ErrorGroup

HOUR_PREFIX = "h_"  # `h_<hour index>`: an error group's occurrences in that clock hour


class MetaItems:
    """API keys and error groups: an owned part of the store (`dynamodb_parts`)."""

    def __init__(self, tables: Tables) -> None:
        self.io = tables.io
        self.meta_table = tables.meta

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
        # One counter attribute per clock hour, added to like `count` (ADD works on top-level
        # attributes only, not inside a map); `_drop_stale_hours` keeps the newest 24.
        names = {"#t": "type", "#c": "count"}
        adds = ["#c :n"]
        for i, (hour, count) in enumerate(sorted(hourly_counts(e.ts for e in evs).items())):
            names[f"#h{i}"] = f"{HOUR_PREFIX}{hour}"
            values[f":h{i}"] = n(count)
            adds.append(f"#h{i} :h{i}")
        add = " ADD " + ", ".join(adds)
        common = {
            "TableName": self.meta_table,
            "Key": key,
            "ExpressionAttributeNames": names,
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
                UpdateExpression=f"SET {', '.join(sets + newest)}{remove}{add}",
                ConditionExpression="attribute_not_exists(last_seen) OR last_seen <= :last",
                ExpressionAttributeValues={**values, **newest_values},
            )
        except ConditionFailed:
            got = self.io.call(
                "update_item",
                **common,
                UpdateExpression=f"SET {', '.join(sets)}{add}",
                ExpressionAttributeValues=values,
            )
        self._drop_stale_hours(key, got["Attributes"])
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

    def _drop_stale_hours(self, key: Item, item: Item) -> None:
        """REMOVE the hour counters older than the 24 h ending with the item's newest hour: one more
        UpdateItem, only when an hour has just aged out (at most once an hour per recurring group)
        or a late event added an old one."""
        stale = stale_hours(_hours(item))
        if stale:
            self.io.call(
                "update_item",
                TableName=self.meta_table,
                Key=key,
                UpdateExpression="REMOVE " + ", ".join(f"#h{i}" for i in range(len(stale))),
                ExpressionAttributeNames={f"#h{i}": f"{HOUR_PREFIX}{h}" for i, h in enumerate(stale)},
            )

    def list_error_groups(self, since: float, limit: int = 100) -> list[ErrorGroup]:
        groups = [_group(it) for it in self.io.query(self.meta_table, "ERRGROUP")]
        recent = [g for g in groups if g.last_seen >= since]
        return sorted(recent, key=lambda g: g.last_seen, reverse=True)[:limit]


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
        _hours(it),
    )


def _hours(it: Item) -> dict[int, int]:
    return {
        int(name[len(HOUR_PREFIX) :]): int(v["N"]) for name, v in it.items() if name.startswith(HOUR_PREFIX)
    }
