"""Builds the one Lambda layer (`build/layer/python/`): Vigil's runtime dependencies installed as
manylinux aarch64 wheels for the Lambda Python version, plus a fresh copy of the `vigil` package.

Run as `python -m infra.build_layer` (the Makefile's `layer` target). No Docker: pip picks wheels for
the target platform with `--platform/--implementation/--python-version --only-binary=:all:`. The pip
step is skipped when the dependency list and target are unchanged (a stamp file records them), so a
rebuild after editing `vigil/` only re-copies the package (well under a second). `cdk synth` never
runs this; it only checks that the folder exists.

Standard library only (it runs before, and without, the CDK).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER_DIR = ROOT / "build" / "layer"
SITE_DIR = LAYER_DIR / "python"  # Lambda puts <layer>/python on sys.path
STAMP = LAYER_DIR / ".deps.json"
# Content hash of the layer (dependency list + vigil sources), used as the CDK asset hash: fingerprinting
# ~4,000 dependency files in the CDK would take ~5 s per synth.
HASH_FILE = LAYER_DIR / ".content-hash"
# Must equal the Lambda runtime in infra/packaging.py (pydantic_core, orjson, PyYAML are compiled per
# CPython minor version); a test checks the two agree.
PYTHON_VERSION = "3.14"
PLATFORM = "manylinux2014_aarch64"
# Never shipped: Lambda does not need pip's console scripts or byte-code compiled for this machine.
_PRUNE = ("bin",)


def runtime_dependencies(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """`[project].dependencies` only: the `local` and `dev` extras never go to Lambda."""
    with pyproject.open("rb") as fh:
        return list(tomllib.load(fh)["project"]["dependencies"])


def _wanted(deps: list[str]) -> dict[str, object]:
    return {"deps": sorted(deps), "python": PYTHON_VERSION, "platform": PLATFORM}


def _install_dependencies(deps: list[str]) -> None:
    staging = LAYER_DIR.with_name("layer.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile", "--upgrade",
        "--platform", PLATFORM, "--implementation", "cp", "--python-version", PYTHON_VERSION,
        "--only-binary=:all:", "--target", str(staging / "python"), *deps,
    ]  # fmt: skip
    subprocess.run(cmd, check=True)
    for name in _PRUNE:
        shutil.rmtree(staging / "python" / name, ignore_errors=True)
    shutil.rmtree(LAYER_DIR, ignore_errors=True)
    staging.rename(LAYER_DIR)  # all or nothing: a failed pip run never leaves a half layer behind


def _copy_vigil() -> None:
    target = SITE_DIR / "vigil"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(
        ROOT / "vigil", target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    )


def _content_hash() -> str:
    digest = hashlib.sha256(STAMP.read_bytes())
    for path in sorted((SITE_DIR / "vigil").rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(SITE_DIR).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def build(force: bool = False) -> Path:
    """Build or refresh the layer folder and return it.

    Raises:
        subprocess.CalledProcessError: pip could not resolve a wheel for the target platform.
    """
    deps = runtime_dependencies()
    wanted = _wanted(deps)
    current = json.loads(STAMP.read_text()) if STAMP.exists() else None
    if force or current != wanted or not SITE_DIR.is_dir():
        _install_dependencies(deps)
        STAMP.write_text(json.dumps(wanted, indent=1) + "\n")
    _copy_vigil()
    HASH_FILE.write_text(_content_hash() + "\n")
    return LAYER_DIR


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = build(force="--force" in args)
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    print(f"layer ready: {path} ({size / 1e6:.1f} MB unzipped, python{PYTHON_VERSION} {PLATFORM})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
