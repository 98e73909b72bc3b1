"""Identity of an ingest batch, shared by every store so a replayed batch is recognised everywhere.

A client-supplied `batch_id` (or Idempotency-Key header) wins; without one, the batch's content is
hashed, so an exact replay (a client retrying after a lost response) is still stored once.
Standard library only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from vigil.domain.models import Point


def batch_key(host: str, points: Sequence[Point], batch_id: str | None) -> str:
    """`id:<batch_id>` for client ids, `sha:<hex>` for a content hash (the two never collide)."""
    if batch_id:
        return f"id:{batch_id}"
    digest = hashlib.blake2b(host.encode(), digest_size=16)
    for p in points:
        hist = p.histogram
        digest.update(
            f"{p.metric}\x1f{p.labels}\x1f{p.ts!r}\x1f{p.value!r}\x1f"
            f"{hist.to_json() if hist else ''}\x1e".encode()
        )
    return "sha:" + digest.hexdigest()
