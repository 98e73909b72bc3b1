"""Error fingerprints: stable across variable message parts and line numbers, distinct otherwise."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from vigil.domain.errors_grouping import fingerprint, normalize_message, top_frame

STACK = """Traceback (most recent call last):
  File "/app/web.py", line {line}, in handle
    return pay(order)
  File "/app/pay.py", line {line2}, in pay
    raise ValueError(msg)
ValueError: boom"""


@given(
    st.integers(),
    st.integers(min_value=0),
    st.uuids(),
    st.text(alphabet="abc xyz", max_size=20),
    st.integers(1, 5000),
    st.integers(1, 5000),
)
def test_same_error_with_different_numbers_ids_and_lines_has_one_fingerprint(
    n: int, m: int, u: uuid.UUID, quoted: str, line: int, line2: int
) -> None:
    message = f"order {n} for user '{quoted}' failed after {m}ms (request {u}, addr 0x{m:x})"
    base = fingerprint(
        "ValueError",
        "order 1 for user 'bob' failed after 2ms (request 00000000-0000-0000-0000-000000000000, addr 0x1)",
        STACK.format(line=1, line2=2),
    )
    assert fingerprint("ValueError", message, STACK.format(line=line, line2=line2)) == base


@given(st.text(max_size=200))
def test_normalize_message_is_idempotent(message: str) -> None:
    once = normalize_message(message)
    assert normalize_message(once) == once


def test_different_type_message_shape_or_top_frame_are_different_groups() -> None:
    stack = STACK.format(line=1, line2=2)
    base = fingerprint("ValueError", "order 1 failed", stack)
    assert fingerprint("KeyError", "order 1 failed", stack) != base
    assert fingerprint("ValueError", "order 1 refunded", stack) != base
    assert fingerprint("ValueError", "order 1 failed", stack.replace("in pay", "in refund")) != base


def test_top_frame_is_the_innermost_python_frame_and_the_first_at_frame() -> None:
    assert top_frame(STACK.format(line=3, line2=4)) == "/app/pay.py in pay"
    js = "TypeError: x is undefined\n    at render (app.js:10:5)\n    at main (app.js:99:1)"
    assert top_frame(js) == "render (app.js:<n>:<n>)"
    assert top_frame(None) == "" and top_frame("no frames here") == ""


def test_normalize_message_replaces_variable_parts() -> None:
    assert normalize_message(
        'user "bob" id 42 hash deadbeef01 at 0xFF  uuid 123e4567-e89b-12d3-a456-426614174000'
    ) == ("user <str> id <n> hash <hex> at <hex> uuid <uuid>")
