"""Builds the one Lambda layer (`build/layer/python/`): Vigil's runtime dependencies installed as
manylinux aarch64 wheels for the Lambda Python version, plus a fresh copy of the `vigil` package, all
compiled to byte-code for that Python (`infra/bytecode.py`: unchecked-hash pycs written by Debian's
CPython 3.14, since Lambda's `/opt` is read-only and a layer without pycs compiles on every cold start).
botocore's data keeps only the models of the AWS services Vigil calls (`infra/aws_models.py`: every
other model slows the first client of every cold start).

Run as `python -m infra.build_layer` (the Makefile's `layer` target). No Docker: pip picks wheels for
the target platform with `--platform/--implementation/--python-version --only-binary=:all:`. The pip
step is skipped when the dependency list and target are unchanged (a stamp file records them), so a
rebuild after editing `vigil/` only re-copies and re-compiles the package (about a second). `cdk synth`
never runs this; it only checks that the folder exists. `Target` also builds the benchmark's x86_64
copy of the same layer (`bench/bench_coldstart.py`), which this machine can run.

Standard library only (it runs before, and without, the CDK).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from infra import aws_models, bytecode

ROOT = Path(__file__).resolve().parent.parent
LAYER_DIR = ROOT / "build" / "layer"
SITE_DIR = LAYER_DIR / "python"  # Lambda puts <layer>/python on sys.path
STAMP = LAYER_DIR / ".deps.json"
# Content hash of the layer (dependency list + vigil sources), used as the CDK asset hash: fingerprinting
# ~4,000 dependency files in the CDK would take ~5 s per synth.
HASH_FILE = LAYER_DIR / ".content-hash"
# Must equal the Lambda runtime in infra/packaging.py (pydantic_core, orjson, PyYAML are compiled per
# CPython minor version); a test checks the two agree.
PYTHON_VERSION = bytecode.PYTHON_VERSION
PLATFORM = "manylinux2014_aarch64"
RUNTIME_SITE = "/opt/python"  # where Lambda mounts <layer>/python: the source path pycs record
# Never shipped: Lambda does not need pip's console scripts.
_PRUNE = ("bin",)


@dataclass(frozen=True)
class Target:
    """Where a layer is built and for which wheel platform."""

    layer_dir: Path
    platform: str

    @property
    def platforms(self) -> tuple[str, str]:
        """pip takes wheels of exactly the tags it is given: the glibc 2.17 (manylinux2014) ones most
        packages ship, and the glibc 2.28 ones numpy ships for aarch64 (the python3.14 runtime, Amazon
        Linux 2023, has glibc 2.34)."""
        return self.platform, self.platform.replace("manylinux2014", "manylinux_2_28")

    @property
    def site_dir(self) -> Path:
        return self.layer_dir / "python"

    @property
    def stamp(self) -> Path:
        return self.layer_dir / STAMP.name

    @property
    def hash_file(self) -> Path:
        return self.layer_dir / HASH_FILE.name


LAMBDA = Target(LAYER_DIR, PLATFORM)


def runtime_dependencies(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """`[project].dependencies` only: the `local` and `dev` extras never go to Lambda."""
    with pyproject.open("rb") as fh:
        return list(tomllib.load(fh)["project"]["dependencies"])


def _wanted(deps: list[str], target: Target) -> dict[str, object]:
    return {
        "deps": sorted(deps),
        "python": PYTHON_VERSION,
        "platform": target.platform,
        "bytecode": bytecode.INVALIDATION_MODE,
        "aws_services": list(aws_models.SERVICES),
        "aws_models": aws_models.FORMAT,
    }


def _install_dependencies(deps: list[str], target: Target, python: list[str]) -> None:
    staging = target.layer_dir.with_name(target.layer_dir.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile", "--upgrade",  # pip would compile for this machine's Python, not the runtime's
        *(arg for tag in target.platforms for arg in ("--platform", tag)),
        "--implementation", "cp", "--python-version", PYTHON_VERSION,
        "--only-binary=:all:", "--target", str(staging / "python"), *deps,
    ]  # fmt: skip
    subprocess.run(cmd, check=True)
    for name in _PRUNE:
        shutil.rmtree(staging / "python" / name, ignore_errors=True)
    aws_models.prune(staging / "python")  # botocore's models of the services Vigil calls, no other
    aws_models.write_marshal(staging / "python", python)  # and copies of them the runtime reads faster
    bytecode.compile_tree(staging / "python", python, RUNTIME_SITE)
    shutil.rmtree(target.layer_dir, ignore_errors=True)
    staging.rename(target.layer_dir)  # all or nothing: a failed pip run never leaves a half layer behind


def _copy_vigil(target: Target, python: list[str]) -> None:
    staging = target.site_dir / "vigil.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(
        ROOT / "vigil", staging, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    )
    bytecode.compile_tree(staging, python, f"{RUNTIME_SITE}/vigil")
    shutil.rmtree(target.site_dir / "vigil", ignore_errors=True)
    staging.rename(target.site_dir / "vigil")


def _content_hash(target: Target) -> str:
    """Sources only: the pycs are a function of them and of the stamp's Python and invalidation mode."""
    digest = hashlib.sha256(target.stamp.read_bytes())
    for path in sorted((target.site_dir / "vigil").rglob("*")):
        if path.is_file() and path.suffix != ".pyc":
            name = path.relative_to(target.site_dir).as_posix()
            digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def build(force: bool = False, target: Target = LAMBDA) -> Path:
    """Build or refresh the layer folder and return it.

    Raises:
        subprocess.CalledProcessError: pip could not resolve a wheel for the target platform.
        bytecode.BytecodeBuildError: the runtime's Python could not be fetched or did not compile.
        aws_models.ModelsMissing: botocore has no model for a service Vigil calls.
    """
    deps = runtime_dependencies()
    wanted = _wanted(deps, target)
    current = json.loads(target.stamp.read_text()) if target.stamp.exists() else None
    python = bytecode.interpreter()
    if force or current != wanted or not target.site_dir.is_dir():
        _install_dependencies(deps, target, python)
        target.stamp.write_text(json.dumps(wanted, indent=1) + "\n")
    _copy_vigil(target, python)
    target.hash_file.write_text(_content_hash(target) + "\n")
    return target.layer_dir


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        path = build(force="--force" in args)
    except bytecode.BytecodeBuildError as exc:
        print(f"layer not built: {exc}", file=sys.stderr)
        return 1
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    print(f"layer ready: {path} ({size / 1e6:.1f} MB unzipped, python{PYTHON_VERSION} {PLATFORM})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
