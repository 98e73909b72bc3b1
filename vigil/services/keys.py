"""Ingest keys and viewer tokens: minted once, stored hashed, listed without secrets, revocable."""

from __future__ import annotations

import secrets

from vigil.api.auth import hash_secret, new_secret
from vigil.domain.models import ApiKeyRecord, KeyCreate, KeyCreated, KeyOut
from vigil.domain.paging import paginate
from vigil.domain.timeparse import iso
from vigil.ports import Store

_PREFIX = {"ingest": "vk", "viewer": "vv"}


def key_out(record: ApiKeyRecord) -> KeyOut:
    return KeyOut(
        id=record.id,
        name=record.name,
        role=record.role,
        created_at=iso(record.created_at),
        last_used_at=iso(record.last_used_at) if record.last_used_at else None,
        revoked=record.revoked,
    )


def create_key(store: Store, request: KeyCreate, now: float) -> KeyCreated:
    secret = new_secret(_PREFIX[request.role])
    record = ApiKeyRecord(
        id=f"key_{secrets.token_hex(6)}",
        name=request.name,
        role=request.role,
        secret_hash=hash_secret(secret),
        created_at=now,
    )
    store.put_key(record)
    return KeyCreated(**key_out(record).model_dump(), key=secret)


def list_keys(store: Store, *, limit: int, cursor: str | None = None) -> tuple[list[KeyOut], str | None]:
    """A page of keys, oldest first (ties by id), and the next page's cursor."""
    records = sorted(store.list_keys(), key=lambda r: (r.created_at, r.id))
    page, next_cursor = paginate(records, lambda r: [r.created_at, r.id], limit=limit, cursor=cursor)
    return [key_out(r) for r in page], next_cursor


def revoke_key(store: Store, key_id: str) -> KeyOut:
    """Raises:
    NotFound: no such key."""
    return key_out(store.revoke_key(key_id))
