"""urllib3's `http2` package without its `__init__`, for the cold start.

`urllib3.connection` imports `urllib3.http2.probe`, which runs `urllib3/http2/__init__.py`, and that
imports `importlib.metadata` (with `email`, `zipfile`, `csv`...) only so that `inject_into_urllib3`,
which switches urllib3 to HTTP/2, can check the installed `h2` version. Nothing here switches it on
(botocore and requests speak HTTP/1.1), yet every function paid the import: ≈ 12 M instructions of
each cold start (`bench/bench_coldstart.py`). `install()` registers the package bare
(`vigil.lean_packages`): `probe` and the other submodules import as usual, and any other name
(`inject_into_urllib3`...) runs the real `__init__` first.

Called before urllib3 is first imported: by `vigil.adapters.aws.session` (botocore) and
`vigil.adapters.notify.pinned` (requests); a no-op once urllib3's `http2` is imported.
`tests/unit/test_lean_urllib3.py` checks that urllib3 loads without `importlib.metadata` and that
HTTP/2 can still be switched on.
"""

from __future__ import annotations

from vigil import lean_packages


def install() -> None:
    """Register `urllib3.http2` bare (imports urllib3 itself, which every caller does next)."""
    lean_packages.install("urllib3.http2", {})
