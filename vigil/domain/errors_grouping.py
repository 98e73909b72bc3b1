"""Grouping of application errors: one fingerprint per kind of error, however its details vary.

`fingerprint(type, message, stack)` hashes the exception type, the message with its variable parts
(uuids, quoted strings, hex, numbers) replaced by placeholders, and the top stack frame with its line
numbers blanked — so "order 42 not found" and "order 7 not found" raised at the same place are one
group, and a redeploy that shifts line numbers does not split groups. Both OTLP exception events and
`POST /v1/errors` use it. Standard library only.
"""

from __future__ import annotations

import hashlib
import re

MAX_NORMALIZED_LEN = 500

# Order matters: uuids and quoted strings first (they contain digits and hex), then hex, then numbers.
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|`[^`\n]*`")
# 0x-prefixed, or a run of >= 8 hex characters with at least one digit and one letter (ids, hashes;
# words like "deadbeef" without digits stay, and all-digit runs are numbers, handled below).
_HEX = re.compile(r"\b0[xX][0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b")
_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)*(?:[eE][-+]?\d+)?")
_SPACES = re.compile(r"\s+")

# Python: `  File "/app/x.py", line 12, in handler`; JS/Java/Go/.NET: `at fn (file.js:10:5)`.
_PY_FRAME = re.compile(r'^\s*File "([^"]*)", line \d+, in (.+?)\s*$')
_AT_FRAME = re.compile(r"^\s*at\s+(.+?)\s*$")


def normalize_message(message: str) -> str:
    """The message with variable parts replaced: `<uuid>`, `<str>`, `<hex>`, `<n>`; whitespace collapsed.

    Idempotent: normalizing a normalized message changes nothing.
    """
    text = _UUID.sub("<uuid>", message)
    text = _QUOTED.sub("<str>", text)
    text = _HEX.sub("<hex>", text)
    text = _NUMBER.sub("<n>", text)
    return _SPACES.sub(" ", text).strip()[:MAX_NORMALIZED_LEN]


def top_frame(stack: str | None) -> str:
    """The innermost frame where the error was raised, without line numbers; "" when unknown.

    Python tracebacks list the innermost frame last; `at ...` style stacks (JS, Java, .NET) list it
    first.
    """
    if not stack:
        return ""
    python_frames = [m for m in map(_PY_FRAME.match, stack.splitlines()) if m]
    if python_frames:
        last = python_frames[-1]
        return f"{last.group(1)} in {last.group(2)}"
    for line in stack.splitlines():
        m = _AT_FRAME.match(line)
        if m:
            return _NUMBER.sub("<n>", m.group(1))
    return ""


def fingerprint(type_: str, message: str, stack: str | None) -> str:
    """Stable group id (16 hex chars) of an error: type + normalized message + top frame."""
    raw = "\x1f".join((type_.strip(), normalize_message(message), top_frame(stack)))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]
