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
from collections.abc import Sequence

from vigil.domain.records import Point

IDEMPOTENCY_SECONDS = 24 * 3600.0


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
    for p in points:
        hist = p.histogram
        digest.update(
            f"{p.metric}\x1f{p.labels}\x1f{p.ts!r}\x1f{p.value!r}\x1f"
            f"{hist.to_json() if hist else ''}\x1e".encode()
        )
    return "sha:" + digest.hexdigest()
