"""Request bodies with a `Content-Encoding`: gzip inflated with a hard output bound, others refused.

Shared by the JSON routes (`vigil.api.app`) and OTLP (`vigil.adapters.otlp.decode`) so one rule holds
everywhere: `gzip` or none (`identity`) is accepted, anything else is a 415, and a small gzip bomb can
never take the process's memory (inflation stops one byte past the limit: 413).

Standard library only; must not import `vigil.api`.
"""

from __future__ import annotations

import zlib

from vigil.domain.errors import Invalid, TooLarge, UnsupportedMediaType


def inflate(body: bytes, content_encoding: str | None, max_bytes: int) -> bytes:
    """The body with its Content-Encoding removed, never more than `max_bytes` of it.

    Raises:
        TooLarge: the body (or what it inflates to) is over `max_bytes`.
        Invalid: not valid gzip.
        UnsupportedMediaType: an encoding other than gzip/identity.
    """
    encoding = (content_encoding or "identity").strip().lower()
    if len(body) > max_bytes:
        raise TooLarge(f"the body is larger than {max_bytes} bytes", field="body")
    if encoding in ("identity", ""):
        return body
    if encoding != "gzip":
        raise UnsupportedMediaType(
            f"Content-Encoding must be gzip or identity, got {encoding!r}", field="Content-Encoding"
        )
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip header and trailer
    try:
        # max_length bounds the output of this call: one byte over the limit proves the bomb.
        out = inflater.decompress(body, max_bytes + 1)
        if len(out) > max_bytes:
            raise TooLarge(f"the gzip body inflates beyond {max_bytes} bytes", field="body")
        if not inflater.eof:
            raise Invalid("the gzip body is truncated", field="body")
    except zlib.error as exc:
        raise Invalid(f"the body is not valid gzip: {exc}", field="body") from exc
    return out
