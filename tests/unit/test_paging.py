"""Properties of cursor pagination (`vigil.domain.paging`): walking the pages of any sorted list with
any page size yields the list exactly once and in order, ending with no cursor; any string as a cursor
either pages or is refused as `Invalid` naming `cursor`, never another error."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vigil.domain.errors import Invalid
from vigil.domain.paging import decode_cursor, encode_cursor, paginate

records = st.lists(st.tuples(st.floats(-1e9, 1e9, allow_nan=False), st.text(max_size=8)), unique=True)


@given(records, st.integers(1, 7), st.booleans())
def test_walking_every_page_yields_the_list_once_in_order(
    items: list[tuple[float, str]], limit: int, desc: bool
) -> None:
    ordered = sorted(items, reverse=desc)
    seen: list[tuple[float, str]] = []
    cursor: str | None = None
    for _ in range(len(ordered) + 2):
        page, cursor = paginate(ordered, lambda r: [r[0], r[1]], limit=limit, cursor=cursor, descending=desc)
        assert len(page) <= limit
        seen += page
        if cursor is None:
            break
    assert seen == ordered and cursor is None


@given(
    st.lists(
        st.one_of(st.text(max_size=20), st.integers(), st.floats(allow_nan=False)), min_size=1, max_size=3
    )
)
def test_a_cursor_decodes_to_the_key_it_was_made_from(key: list[object]) -> None:
    assert decode_cursor(encode_cursor(key)) == key


@given(st.text(max_size=60))
def test_any_string_as_a_cursor_pages_or_is_invalid_naming_cursor(cursor: str) -> None:
    try:
        paginate([(1.0, "a"), (2.0, "b")], lambda r: [r[0], r[1]], limit=1, cursor=cursor)
    except Invalid as exc:
        assert exc.field == "cursor"
