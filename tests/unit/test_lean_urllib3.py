"""`vigil.lean_urllib3`: urllib3's `http2` package loads without its `__init__`, so importing botocore
or requests no longer imports `importlib.metadata` (a cold-start saving), while switching HTTP/2 on
still runs the real `__init__`. Each case runs in a fresh interpreter (import order matters)."""

from __future__ import annotations

import json
import subprocess
import sys

LOADS = """
import json, sys
if {lean}:
    from vigil import lean_urllib3
    lean_urllib3.install()
import botocore.session, requests
print(json.dumps("importlib.metadata" in sys.modules))
"""

SWITCH_ON = """
import json, sys
from vigil import lean_urllib3
lean_urllib3.install()
import requests
from urllib3.http2 import inject_into_urllib3, extract_from_urllib3
import urllib3.http2
print(json.dumps([inject_into_urllib3.__module__, extract_from_urllib3 is urllib3.http2.extract_from_urllib3,
                  urllib3.http2.version.__module__, "urllib3.http2.probe" in sys.modules]))
"""


def _fresh(code: str) -> object:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_botocore_and_requests_load_without_importlib_metadata_once_installed() -> None:
    assert _fresh(LOADS.format(lean=True)) is False


def test_without_it_urllib3_still_imports_importlib_metadata() -> None:
    """Pins what the lean import avoids: on a urllib3 that no longer does this, drop `lean_urllib3`."""
    assert _fresh(LOADS.format(lean=False)) is True


def test_switching_http2_on_still_finds_the_real_package() -> None:
    assert _fresh(SWITCH_ON) == ["urllib3.http2", True, "importlib.metadata", True]
