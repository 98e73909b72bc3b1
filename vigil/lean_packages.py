"""A third-party package registered without running its `__init__`, for the cold start.

Some packages' `__init__` imports far more than the submodules Vigil uses (Powertools'
`event_handler` imports every resolver it has: `vigil.api.lean_powertools`), or imports something
only one of its functions needs (urllib3's `http2` package imports `importlib.metadata` to check an
`h2` version when HTTP/2 is switched on, which nothing here does: `vigil.lean_urllib3`).

`install(package, names)` registers the package as its bare module (its `__path__` set, its
`__init__` not run) so submodules import as usual, and gives it a module `__getattr__`: a name in
`names` comes from the submodule it maps to; a submodule's name is left to the import system; any
other name runs the package's real `__init__` in place once and is then looked up. Correctness never
depends on `names`, only the time saved. The package's parent is imported afterwards (as importing the
package would have), and finds the bare package in `sys.modules`. Standard library only.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any


def install(package: str, names: dict[str, str]) -> None:
    """Register `package` bare in `sys.modules`, unless it is already imported."""
    if package in sys.modules:
        return
    parent_name, _, child = package.rpartition(".")
    # The spec from the parent's folders: `find_spec(package)` would import the parent first, and the
    # parent may import this package (urllib3 does).
    parent_spec = importlib.util.find_spec(parent_name)
    if parent_spec is None or not parent_spec.submodule_search_locations:
        return
    spec = importlib.machinery.PathFinder.find_spec(package, list(parent_spec.submodule_search_locations))
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
    parent: ModuleType = importlib.import_module(parent_name)
    setattr(parent, child, module)  # what the import system would set


def _is_submodule(folders: list[Path], name: str) -> bool:
    """`from package import name` of a submodule asks the package first; say no so it is imported."""
    return any((folder / f"{name}.py").is_file() or (folder / name).is_dir() for folder in folders)
