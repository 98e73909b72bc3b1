"""Two Powertools packages without their eager `__init__`, for the cold start.

`aws_lambda_powertools/event_handler/__init__.py` imports every resolver Powertools has (AppSync,
AppSync Events, Bedrock agents, VPC Lattice, Function URLs...) to re-export them, and AppSync's
imports `asyncio`: about 90 M instructions, ~25 ms of each API function's first invocation, for
classes Vigil never uses (it uses only the HTTP API resolver, `api_gateway`, and `openapi.*`).
`aws_lambda_powertools/utilities/data_classes/__init__.py` imports all ~40 event classes (S3, Kafka,
CodePipeline with `tempfile` and `zipfile`, ...) while `api_gateway` needs seven of them: another
55 M instructions, ~8 % of the health function's cold start (`bench/bench_coldstart.py`).

`install()` registers each package as its bare module (its `__path__` set, its `__init__` not run) so
submodules import as usual, and gives it a module `__getattr__`: a name the package re-exports from a
submodule listed below comes from that submodule; a submodule's name is left to the import system;
any other name runs the package's real `__init__` in place once and is then looked up, so `from
aws_lambda_powertools.event_handler import AppSyncResolver` still works, only no longer on our cold
start. Correctness never depends on the lists below, only the time saved.

Installed by `vigil/api/__init__.py` (every route module, the resolver and the error handlers import
Powertools through `vigil.api`); a no-op for a package already imported.
`tests/infra/test_deployed_functions.py` checks that no function loads `asyncio`;
`tests/unit/test_lean_powertools.py` that every listed name is where the list says.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

# package -> {name its __init__ re-exports: the submodule defining it} (Powertools 3.x)
LEAN_PACKAGES: dict[str, dict[str, str]] = {
    "aws_lambda_powertools.event_handler": dict.fromkeys(
        (
            "ALBResolver",
            "APIGatewayHttpResolver",
            "ApiGatewayResolver",
            "APIGatewayRestResolver",
            "CORSConfig",
            "Response",
        ),
        "api_gateway",
    ),
    "aws_lambda_powertools.utilities.data_classes": {  # what `event_handler.api_gateway` imports
        "ALBEvent": "alb_event",
        "APIGatewayProxyEvent": "api_gateway_proxy_event",
        "APIGatewayProxyEventV2": "api_gateway_proxy_event",
        "BedrockAgentEvent": "bedrock_agent_event",
        "LambdaFunctionUrlEvent": "lambda_function_url_event",
        "VPCLatticeEvent": "vpc_lattice",
        "VPCLatticeEventV2": "vpc_lattice",
    },
}


def install() -> None:
    """Register each bare package in `sys.modules`, unless it is already imported."""
    for package, names in LEAN_PACKAGES.items():
        _install(package, names)


def _install(package: str, names: dict[str, str]) -> None:
    if package in sys.modules:
        return
    spec = importlib.util.find_spec(package)
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        return  # not a regular package here: let the normal import fail or succeed on its own
    module = importlib.util.module_from_spec(spec)
    folders = [Path(folder) for folder in spec.submodule_search_locations]
    ran_init = False

    def __getattr__(name: str) -> Any:  # PEP 562: the module's attribute fallback
        nonlocal ran_init
        if name in names:
            return getattr(importlib.import_module(f"{package}.{names[name]}"), name)
        if not name.startswith("__") and not _is_submodule(folders, name) and not ran_init:
            ran_init = True
            spec.loader.exec_module(module)  # type: ignore[union-attr]  # checked above
            if name in module.__dict__:
                return module.__dict__[name]
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[package] = module
    parent_name, _, child = package.rpartition(".")
    parent: ModuleType = importlib.import_module(parent_name)
    setattr(parent, child, module)  # what the import system would set


def _is_submodule(folders: list[Path], name: str) -> bool:
    """`from package import name` of a submodule asks the package first; say no so it is imported."""
    return any((folder / f"{name}.py").is_file() or (folder / name).is_dir() for folder in folders)
