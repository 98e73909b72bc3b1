"""Identity of an ingest batch, shared by every store so a retried batch is recognised everywhere.

The semantics (`docs/api.md`, "Ingest"), defined here once:

- a client key — the body's `batch_id`, else the `Idempotency-Key` header — is remembered per host for
  at least `IDEMPOTENCY_SECONDS` (24 h), whatever the batch's timestamps: a batch carrying a key seen
  before is a duplicate even when its samples have no `ts` (stamped with the receipt time, so they
  differ on every retry) or when the client dropped some samples before retrying;
- without a key, a batch whose every sample carries an explicit `ts` is identified by a hash of its
  content, so an exact replay is still stored once (remembered as long as its samples are kept);
- without a key and with any sample lacking `ts`, nothing identifies a retry: the batch is stored
  every time it is sent.

Standard library only.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from vigil.domain.errors import Invalid
from vigil.domain.records import Point

IDEMPOTENCY_SECONDS = 24 * 3600.0
# The body's `batch_id` has the same bounds (`models.SampleBatch`): a key is part of a store key, and
# DynamoDB refuses key attributes over 1 KB with an error no client could act on.
CLIENT_KEY_RE = re.compile(r"[A-Za-z0-9_.:\-]{1,128}")


def check_idempotency_key(key: str | None) -> str | None:
    """The `Idempotency-Key` header as given, or `Invalid` naming it when it is not 1 to 128 characters
    of `A-Z a-z 0-9 _ . : -` (what a UUID, a ULID or an agent's batch id is made of)."""
    if key is not None and not CLIENT_KEY_RE.fullmatch(key):
        raise Invalid(
            "Idempotency-Key must be 1-128 characters of letters, digits, '_', '.', ':' or '-'",
            field="Idempotency-Key",
        )
    return key


def batch_key(
    host: str, points: Sequence[Point], batch_id: str | None, timestamped: bool = True
) -> str | None:
    """`id:<client key>`, `sha:<hex>` for a content hash (the two never collide), or None when the
    batch cannot be recognised (no key, and `timestamped` is False: some sample had no explicit ts)."""
    if batch_id:
        return f"id:{batch_id}"
    if not timestamped:
        return None
    digest = hashlib.blake2b(host.encode(), digest_size=16)
    # The same bytes as one `update` per point, hashed at once; a label set's text is made once per
    # series rather than per point (remote-write and agents without a key pay this on every request).
    label_texts: dict[tuple[tuple[str, str], ...], str] = {}
    parts = []
    for p in points:
        labels = label_texts.get(p.labels)
        if labels is None:
            labels = label_texts[p.labels] = str(p.labels)
        hist = p.histogram
        parts.append(
            f"{p.metric}\x1f{labels}\x1f{p.ts!r}\x1f{p.value!r}\x1f{hist.to_json() if hist else ''}\x1e"
        )
    digest.update("".join(parts).encode())
    return "sha:" + digest.hexdigest()
