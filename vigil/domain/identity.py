"""The one encoding of series and label-set identities: store series keys, alert group keys, the
cardinality guard and OTLP cumulative state all key by these strings.

A key is `host|metric|k=v,k=v` with the label pairs sorted and every `\\`, `,`, `=` and `|` inside a
part escaped by a backslash, so two distinct `(host, metric, labels)` never share a key: labels
`{"a": "1", "b": "2"}` give `a=1,b=2`, labels `{"a": "1,b=2"}` give `a=1\\,b\\=2`. Parts without those
characters are written as they are, so the keys of every ordinary series are the same as before the
escaping existed (`docs/data-model.md`, "Series identity", says how older stored keys are read).
`parse_series_key` inverts `series_key` exactly.

Standard library only.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

Labels = tuple[tuple[str, str], ...]

_SPECIAL = re.compile(r"[\\,=|]")
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)


def _escape(part: str) -> str:
    # The search first: nearly every part has nothing to escape, and this runs per ingested point.
    return part if _SPECIAL.search(part) is None else _SPECIAL.sub(r"\\\g<0>", part)


def _unescape(part: str) -> str:
    return _ESCAPED.sub(r"\1", part)


def labels_key(labels: Iterable[tuple[str, str]]) -> str:
    """Canonical key of a label set: `k=v,k=v`, pairs sorted, parts escaped; `""` when empty."""
    return ",".join(f"{_escape(k)}={_escape(v)}" for k, v in sorted(labels))


# Ingest asks for the key of every point several times (cardinality guard, store, cost meter) and a
# batch repeats the same few series: remembered, a key costs a hash of its parts instead of ~3 us of
# escaping and joining. Bounded: 32,768 series (1,000 hosts x 20 metrics fit) of a few hundred bytes.
@functools.lru_cache(maxsize=1 << 15)
def series_key(host: str, metric: str, labels: Labels) -> str:
    """Canonical identity of a series: `host|metric|k=v,k=v` (see the module docstring)."""
    return f"{_escape(host)}|{_escape(metric)}|{labels_key(labels)}"


def _split(text: str, sep: str) -> list[str]:
    """`text` split at every `sep` that is not escaped (escapes are kept for `_unescape`)."""
    parts, current, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def parse_labels_key(text: str) -> list[tuple[str, str]]:
    """The pairs of a `labels_key`-style text `k=v,k2=v2` in their order (a `\\` escapes `,` `=` `\\`
    inside a key or value; text without backslashes reads as it always did), whitespace around each
    key and value stripped.

    Raises:
        ValueError: a pair without an unescaped `=`, or with an empty key.
    """
    pairs: list[tuple[str, str]] = []
    for pair in _split(text, ",") if text else ():
        kv = _split(pair, "=")
        if len(kv) < 2 or not kv[0].strip():
            raise ValueError(pair)
        value = "=".join(kv[1:])  # an unescaped `=` inside a value still belongs to it, as before
        pairs.append((_unescape(kv[0].strip()), _unescape(value.strip())))
    return pairs


def parse_series_key(key: str) -> tuple[str, str, Labels]:
    """`(host, metric, labels)` of a key made by `series_key`.

    Raises:
        ValueError: `key` is not a series key.
    """
    parts = _split(key, "|")
    if len(parts) != 3:
        raise ValueError(f"not a series key: {key!r}")
    host, metric, label_part = parts
    labels = []
    for pair in _split(label_part, ",") if label_part else ():
        kv = _split(pair, "=")
        if len(kv) != 2:
            raise ValueError(f"not a series key: {key!r}")
        labels.append((_unescape(kv[0]), _unescape(kv[1])))
    return _unescape(host), _unescape(metric), tuple(labels)
