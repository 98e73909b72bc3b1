"""Encryption at rest for the secret fields of documents (`domain.channels.SECRET_DOC_FIELDS`): a store
with a `FieldSealer` seals them on write and opens them on read, so the table never holds a webhook URL,
HMAC key or e-mail/SMS endpoint in clear, and only a function allowed to decrypt with the key can read
them. Values written before sealing existed are read as they are and reported, so the store can
re-write them sealed. Imports: `vigil.domain`, `vigil.ports`, `vigil.adapters.secrets`.
"""

from __future__ import annotations

from typing import Any

from vigil.adapters.secrets.kms import is_sealed
from vigil.ports import FieldSealer


def _secret_fields(kind: str) -> tuple[str, ...]:
    # Imported when a document is first read or written: `domain.channels` loads pydantic, which the
    # store's other users (the health function's cold start) never need.
    from vigil.domain.channels import SECRET_DOC_FIELDS

    return SECRET_DOC_FIELDS.get(kind, ())


def _context(kind: str, doc_id: str, name: str) -> str:
    return f"{kind}/{doc_id}/{name}"


def seal_fields(kind: str, doc_id: str, body: dict[str, Any], sealer: FieldSealer | None) -> dict[str, Any]:
    """`body` with its secret string fields sealed (unchanged without a sealer or secret fields)."""
    fields = _secret_fields(kind)
    if sealer is None or not fields:
        return body
    out = dict(body)
    for name in fields:
        value = out.get(name)
        if isinstance(value, str) and value and not is_sealed(value):
            out[name] = sealer.seal(value, _context(kind, doc_id, name))
    return out


def open_fields(
    kind: str, doc_id: str, body: dict[str, Any], sealer: FieldSealer | None
) -> tuple[dict[str, Any], bool]:
    """(`body` with sealed fields opened, whether any secret field was found in clear).

    Raises:
        ValueError: a field is sealed but this store has no sealer to open it.
    """
    fields = _secret_fields(kind)
    out = dict(body)
    clear = False
    for name in fields:
        value = out.get(name)
        if is_sealed(value):
            if sealer is None:
                raise ValueError(f"{kind} {doc_id!r}: field {name!r} is encrypted and no key is configured")
            out[name] = sealer.open(str(value), _context(kind, doc_id, name))
        elif isinstance(value, str) and value:
            clear = True
    return out, clear
