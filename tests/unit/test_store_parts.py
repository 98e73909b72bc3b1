"""The stores' parts compose through explicit interfaces (docs/architecture.md, "The store's parts"):
no module of `vigil/adapters/store` uses a private attribute it does not define itself — neither
`other._name` on another object, nor `self._name` that only a sibling mixin or the composing store
would set."""

from __future__ import annotations

import re
from pathlib import Path

STORE = Path(__file__).resolve().parents[2] / "vigil" / "adapters" / "store"
_ASSIGNED = re.compile(r"\s*self\._\w+(\s*,\s*self\._\w+)*\s*(:[^=]+)?=[^=]")


def reaches(source: str) -> list[str]:
    """`x._name` uses in `source` that reach into state the module does not own."""
    defined = set(re.findall(r"def (_\w+)", source)) | set(re.findall(r"^\s+(_\w+)\s*[:=]", source, re.M))
    for line in source.splitlines():
        if _ASSIGNED.match(line):
            defined |= set(re.findall(r"self\.(_\w+)", line.split("=")[0]))
    found = []
    for base, name in re.findall(r"\b(\w+)\.(_[a-z]\w*)\b", source):
        if base in ("self", "cls") and name in defined:
            continue
        found.append(f"{base}.{name}")
    return found


def test_no_store_module_reaches_into_another_parts_private_state() -> None:
    modules = sorted(STORE.glob("*.py"))
    assert len(modules) > 20
    assert {m.name: reaches(m.read_text()) for m in modules if reaches(m.read_text())} == {}


def test_the_check_sees_a_mixin_using_the_stores_private_state() -> None:
    mixin = "class Half:\n    def read(self):\n        return self._conn().execute('SELECT 1')\n"
    assert reaches(mixin) == ["self._conn"]
    assert reaches("def f(store):\n    return store._series_rows(None)\n") == ["store._series_rows"]
    owned = "class Part:\n    def __init__(self):\n        self._a, self._b = 1, 2\n    def f(self):\n"
    assert reaches(owned + "        return self._a + self._b\n") == []
