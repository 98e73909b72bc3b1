"""Lambda packaging without Docker: the runtime/architecture choice, the shared layer built by
`infra/build_layer.py`, and each function's code asset (`functions/<name>/`).

`cdk synth` only reads folders here; it never runs pip, so it works offline. A missing layer is a
clear error telling the user to run `make layer`.

Must not import anything from `vigil/`.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import AssetHashType
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.build_layer import HASH_FILE, LAYER_DIR, PYTHON_VERSION, ROOT, SITE_DIR

RUNTIME_TAG = "cpython-" + PYTHON_VERSION.replace(".", "")
# The newest Python runtime aws-cdk-lib 2.275 offers; arm64 (Graviton) is ~20 % cheaper per GB-s.
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
FUNCTIONS_DIR = ROOT / "functions"
# Local byte-code and editor droppings would change the asset hash without changing the code.
_ASSET_EXCLUDES = ["__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache"]
# The layer ships the runtime's byte-code (infra/bytecode.py) and nothing another Python wrote into it.
_LAYER_EXCLUDES = [".deps.json", ".content-hash", "*.pyc", f"!*.{RUNTIME_TAG}.pyc"]


class LayerNotBuiltError(RuntimeError):
    """The layer folder is missing: synth cannot package the shared code."""


def layer_path() -> Path:
    """The built layer folder.

    Raises:
        LayerNotBuiltError: `make layer` (python -m infra.build_layer) has not been run.
    """
    if not (SITE_DIR / "vigil" / "__init__.py").is_file() or not HASH_FILE.is_file():
        raise LayerNotBuiltError(
            f"Lambda layer not found at {LAYER_DIR}. Build it first with `make layer` "
            "(or `.venv/bin/python -m infra.build_layer`); it downloads wheels once, then cdk synth "
            "works offline."
        )
    return LAYER_DIR


def function_code(name: str) -> lambda_.Code:
    """The asset for `functions/<name>/` (its `handler.py` exposes `handler(event, context)`).

    Raises:
        FileNotFoundError: the function folder has no handler.py.
    """
    folder = FUNCTIONS_DIR / name
    if not (folder / "handler.py").is_file():
        raise FileNotFoundError(f"{folder / 'handler.py'} is missing: every function needs a handler")
    return lambda_.Code.from_asset(str(folder), exclude=_ASSET_EXCLUDES)


class SharedLayer(Construct):
    """The `vigil` package and its runtime dependencies, shared by all four functions."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        assert RUNTIME.name == f"python{PYTHON_VERSION}", "build_layer.PYTHON_VERSION != RUNTIME"
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            code=lambda_.Code.from_asset(
                str(layer_path()),
                exclude=_LAYER_EXCLUDES,
                asset_hash_type=AssetHashType.CUSTOM,
                asset_hash=HASH_FILE.read_text().strip(),
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description=f"vigil + runtime dependencies ({RUNTIME.name}, arm64)",
        )
