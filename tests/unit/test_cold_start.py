"""The cycle collector is paused for a Lambda cold start and runs again after the first invocation
(`vigil.cold_start`); outside Lambda (the local server loads the same handler files) it never pauses.
Each case runs in a fresh interpreter: the pause happens at import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, json, sys
from vigil import cold_start
from vigil.lambda_logging import logged
seen = {"after_import": gc.isenabled()}
def failing(event, context):
    seen["during_first"] = gc.isenabled()
    raise RuntimeError("first invocation fails")
handler = logged("probe", failing)
try:
    handler({}, None)
except RuntimeError:
    pass
seen["after_first"] = gc.isenabled()
print(json.dumps(seen))
"""


def _probe(**env: str) -> dict[str, bool]:
    clean = {k: v for k, v in os.environ.items() if k != "AWS_LAMBDA_FUNCTION_NAME"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    answer: dict[str, bool] = json.loads(done.stdout)
    return answer


def test_in_lambda_the_collector_is_off_until_the_first_invocation_ends_even_when_it_raises() -> None:
    seen = _probe(AWS_LAMBDA_FUNCTION_NAME="vigil-probe")
    assert seen == {"after_import": False, "during_first": False, "after_first": True}


def test_outside_lambda_the_collector_is_never_paused() -> None:
    seen = _probe()
    assert seen == {"after_import": True, "during_first": True, "after_first": True}


def test_every_function_imports_the_pause_before_anything_else() -> None:
    for handler in sorted((ROOT / "functions").glob("*/handler.py")):
        imports = [line for line in handler.read_text().splitlines() if line.startswith(("from ", "import "))]
        assert imports[0].startswith("from vigil import cold_start"), handler
