"""Pagination parameters every list route shares (`?limit=&cursor=`), and the answer of a list whose
JSON is a bare array (keys, rules, channels, silences): the array unchanged, the next page's cursor
in the `X-Next-Cursor` header (absent on the last page). Lists answered as objects carry
`next_cursor` in the body instead (`vigil.domain.paging`)."""

# Powertools resolves these annotations when routes register (no `from __future__ import annotations`).
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from vigil.domain.paging import DEFAULT_LIMIT, MAX_CURSOR_CHARS, MAX_LIMIT

LimitParam = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")]
CursorParam = Annotated[
    str | None,
    Query(max_length=MAX_CURSOR_CHARS, description="`next_cursor` of the previous page (opaque)"),
]
DEFAULT_PAGE = DEFAULT_LIMIT
WHOLE_PAGE = MAX_LIMIT  # default page of the bare-array lists: clients that never page still get all
NEXT_CURSOR_HEADER = "X-Next-Cursor"


def array_page(items: list[Any], next_cursor: str | None) -> Response[Any]:
    headers = {NEXT_CURSOR_HEADER: next_cursor} if next_cursor else {}
    return Response(200, "application/json", items, headers=headers)
