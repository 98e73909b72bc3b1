"""Cursor pagination for list endpoints: `?limit=&cursor=` in, one page and `next_cursor` out.

A cursor is opaque to clients: URL-safe base64 of the JSON sort key of the last item served (e.g.
`["web-7"]` for hosts, `[last_seen, fingerprint]` for error groups). The next page starts strictly
after it in the list's order, so items added or removed meanwhile never shift a page (no offsets).
`next_cursor` is None on the last page. A cursor that does not decode is `Invalid` naming `cursor`.

Standard library only.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from vigil.domain.errors import Invalid

T = TypeVar("T")
Key = list[Any]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_CURSOR_CHARS = 2048


def encode_cursor(key: Key) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Key | None:
    """The sort key inside `cursor` (None for no cursor).

    Raises:
        Invalid: (field `cursor`) not a cursor a list handed out.
    """
    if not cursor:
        return None
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError("too long")
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise _bad() from exc
    if not isinstance(key, list) or not key or not all(isinstance(k, str | int | float) for k in key):
        raise _bad()
    return key


def name_after(cursor: str | None) -> str | None:
    """The name inside a cursor of a list keyed by one name (hosts), for a store to start after.

    Raises:
        Invalid: (field `cursor`) not such a cursor.
    """
    key = decode_cursor(cursor)
    if key is None:
        return None
    if len(key) != 1 or not isinstance(key[0], str):
        raise _bad()
    return key[0]


def paginate(
    items: Sequence[T],
    key: Callable[[T], Key],
    *,
    limit: int,
    cursor: str | None,
    descending: bool = False,
) -> tuple[list[T], str | None]:
    """One page of `items` (already sorted by `key`, ascending or `descending`; keys unique) after
    `cursor`, and the cursor of the next page (None when this is the last).

    Raises:
        Invalid: (field `cursor`) a cursor that does not decode or does not fit this list's keys.
    """
    after = decode_cursor(cursor)
    rest = list(items)
    if after is not None:
        try:
            rest = [it for it in rest if _beyond(key(it), after, descending)]
        except TypeError as exc:  # a cursor of another list (a string where a number sorts)
            raise _bad() from exc
    page = rest[:limit]
    return page, encode_cursor(key(page[-1])) if len(rest) > limit and page else None


def _beyond(k: Key, after: Key, descending: bool) -> bool:
    if len(k) != len(after):
        raise TypeError("cursor of another list")
    return k < after if descending else k > after


def _bad() -> Invalid:
    return Invalid("cursor is not one this list handed out; start again without it", field="cursor")
