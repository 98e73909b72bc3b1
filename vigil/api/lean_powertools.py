"""Powertools' `event_handler` package without its eager `__init__`, for the cold start.

`aws_lambda_powertools/event_handler/__init__.py` imports every resolver Powertools has (AppSync,
AppSync Events, Bedrock agents, VPC Lattice, Function URLs...) to re-export them, and AppSync's
imports `asyncio`: about 90 M instructions, ~25 ms of each API function's first invocation, for
classes Vigil never uses (it uses only the HTTP API resolver, `api_gateway`, and `openapi.*`).

`install()` registers the package as its bare module (its `__path__` set, its `__init__` not run) so
submodules import as usual, and gives it a module `__getattr__`: the names the package re-exports from
`api_gateway` (`APIGatewayHttpResolver`, `Response`, ...) come from that module; a submodule's name
is left to the import system; any other name runs the package's real `__init__` in place once and is
then looked up, so `from aws_lambda_powertools.event_handler import AppSyncResolver` still works, only
no longer on our cold start. Correctness never depends on the list below, only the time saved.

Installed by `vigil/api/__init__.py` (every route module, the resolver and the error handlers import
Powertools through `vigil.api`); a no-op when the package is already imported.
`tests/infra/test_deployed_functions.py` checks that no function loads `asyncio`.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

PACKAGE = "aws_lambda_powertools.event_handler"
# What the package's __init__ re-exports from its api_gateway module (Powertools 3.x).
_FROM_API_GATEWAY = frozenset(
    {
        "ALBResolver",
        "APIGatewayHttpResolver",
        "ApiGatewayResolver",
        "APIGatewayRestResolver",
        "CORSConfig",
        "Response",
    }
)


def install() -> None:
    """Register the bare `event_handler` package in `sys.modules`, unless it is already imported."""
    if PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        return  # not a regular package here: let the normal import fail or succeed on its own
    module = importlib.util.module_from_spec(spec)
    folders = [Path(folder) for folder in spec.submodule_search_locations]
    ran_init = False

    def __getattr__(name: str) -> Any:  # PEP 562: the module's attribute fallback
        nonlocal ran_init
        if name in _FROM_API_GATEWAY:
            return getattr(importlib.import_module(f"{PACKAGE}.api_gateway"), name)
        if not name.startswith("__") and not _is_submodule(folders, name) and not ran_init:
            ran_init = True
            spec.loader.exec_module(module)  # type: ignore[union-attr]  # checked above
            if name in module.__dict__:
                return module.__dict__[name]
        raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}")

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[PACKAGE] = module
    parent: ModuleType = importlib.import_module("aws_lambda_powertools")
    parent.event_handler = module  # type: ignore[attr-defined]  # what the import system would set


def _is_submodule(folders: list[Path], name: str) -> bool:
    """`from package import name` of a submodule asks the package first; say no so it is imported."""
    return any((folder / f"{name}.py").is_file() or (folder / name).is_dir() for folder in folders)
