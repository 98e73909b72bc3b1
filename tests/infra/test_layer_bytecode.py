"""The layer ships byte-code the Lambda runtime's Python reads as is (issue 14, cold starts): Lambda
mounts the layer read-only, so a module without a valid pyc is compiled again on every cold start.

The runtime's interpreter here is the one `infra/bytecode.py` unpacks from Debian (the same minor
version as `RUNTIME`): it checks the pycs' magic number and source hashes, and imports `vigil` from
the built layer, showing in its verbose log that it loaded each module from its pyc.
"""

from __future__ import annotations

import functools
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aws_cdk import IgnoreStrategy

from infra import bytecode
from infra.packaging import _LAYER_EXCLUDES, RUNTIME, RUNTIME_TAG

if TYPE_CHECKING:
    from tests.infra.conftest import Synth

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

# Run by the runtime's Python: every pyc beside a source is that Python's, hash-based and unchecked
# (bit 0 set, bit 1 clear: Lambda's zips date every file 1980-01-01, so timestamps would never match),
# and its recorded hash is the hash of the source beside it (the pyc is not stale).
CHECK_PYCS = """
import importlib.util, pathlib, sys
site = pathlib.Path(sys.argv[1])
bad, count = [], 0
for source in site.rglob("*.py"):
    count += 1
    pyc = pathlib.Path(importlib.util.cache_from_source(str(source)))
    if not pyc.is_file():
        bad.append(f"no pyc: {source}")
        continue
    head = pyc.read_bytes()[:16]
    if head[:4] != importlib.util.MAGIC_NUMBER:
        bad.append(f"magic {head[:4]!r}: {pyc}")
    elif int.from_bytes(head[4:8], "little") != 0b01:
        bad.append(f"not an unchecked hash pyc: {pyc}")
    elif head[8:16] != importlib.util.source_hash(source.read_bytes()):
        bad.append(f"stale: {pyc}")
print(count)
print("\\n".join(bad[:20]), file=sys.stderr)
sys.exit(1 if bad else 0)
"""


UNSIGNED_INDEX = """-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA512

Suite: testing
SHA256:
 0000000000000000000000000000000000000000000000000000000000000000 10 main/binary-amd64/Packages.xz
-----BEGIN PGP SIGNATURE-----

iQIzBAEBCgAdFiEEAAAAAAAAAAAAAAAAAAAAAAAAAAAFAmcAAAAACgkQAAAAAAAAAAA=
=AAAA
-----END PGP SIGNATURE-----
"""


@pytest.fixture(scope="module")
def runtime_python() -> list[str]:
    return bytecode.interpreter()


def test_the_compiling_interpreter_is_the_lambda_runtime_python(runtime_python: list[str]) -> None:
    code = "import sys; print(f'python{sys.version_info[0]}.{sys.version_info[1]}')"
    version = subprocess.run([*runtime_python, "-I", "-c", code], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == RUNTIME.name


def test_every_module_in_the_layer_ships_fresh_bytecode_for_the_runtime_python(
    layer_dir: Path, runtime_python: list[str]
) -> None:
    done = subprocess.run(
        [*runtime_python, "-I", "-c", CHECK_PYCS, str(layer_dir / "python")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 1000  # vigil and every pure-Python dependency


def test_the_runtime_python_imports_vigil_from_the_layer_without_compiling(layer_dir: Path) -> None:
    # `-v` logs "code object from '<pyc>'" for a module loaded from byte-code and "code object from
    # <source>" for one it had to compile. Pure-Python modules only: the layer's C extensions are
    # aarch64. `-P`: the working directory (this checkout's own `vigil/`) is not on the path.
    # The full stdlib (Powertools imports `contextvars`), not just what compiling needs: a fresh
    # machine has only the compile packages until something asks for more.
    full_python = bytecode.interpreter(bytecode.RUN_PACKAGES)
    done = subprocess.run(
        [*full_python, "-P", "-v", "-c", "import vigil.api.route_table, vigil.domain.errors"],
        env={"PYTHONPATH": str(layer_dir / "python"), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = [line for line in done.stderr.splitlines() if line.startswith("import 'vigil")]
    read = [line for line in done.stderr.splitlines() if "code object from" in line and "/vigil/" in line]
    # vigil, vigil.api + lean_powertools + lean_packages, route_table, vigil.domain, errors
    assert len(loaded) == 7, loaded
    pyc = f"code object from '{layer_dir / 'python' / 'vigil'}"
    assert len(read) == len(loaded) and all(line.startswith(f"# {pyc}") for line in read), read
    assert all(line.endswith(f".{RUNTIME_TAG}.pyc'") for line in read), read


def test_the_layer_asset_keeps_the_runtime_bytecode_and_drops_any_other(
    synth: Synth, layer_dir: Path
) -> None:
    ignore = IgnoreStrategy.glob(str(layer_dir), _LAYER_EXCLUDES)
    cache = layer_dir / "python" / "vigil" / "__pycache__"
    assert not ignore.ignores(str(cache / f"config.{RUNTIME_TAG}.pyc"))
    assert ignore.ignores(str(cache / "config.cpython-311.pyc"))  # a local test run's droppings
    assert ignore.ignores(str(layer_dir / ".content-hash"))
    (asset,) = [p for p in synth.outdir.glob("asset.*") if (p / "python" / "vigil" / "__init__.py").is_file()]
    shipped = sorted(p.relative_to(asset) for p in asset.rglob("*.pyc"))
    built = sorted(p.relative_to(layer_dir) for p in layer_dir.rglob(f"*.{RUNTIME_TAG}.pyc"))
    assert shipped == built


def test_an_archive_index_not_signed_by_debian_is_refused_and_nothing_is_unpacked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "dists" / bytecode.DEBIAN_SUITE).mkdir(parents=True)
    (mirror / "dists" / bytecode.DEBIAN_SUITE / "InRelease").write_text(UNSIGNED_INDEX)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(mirror))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    monkeypatch.setattr(bytecode, "MIRROR", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setattr(bytecode, "INTERPRETER_DIR", tmp_path / "python3.14")
    try:
        with pytest.raises(bytecode.BytecodeBuildError, match="bad signature"):
            bytecode.interpreter()
    finally:
        server.shutdown()
        server.server_close()
    assert not (tmp_path / "python3.14").exists()


def test_the_archive_is_the_debian_one_apt_is_configured_with(tmp_path: Path) -> None:
    deb822 = tmp_path / "a" / "sources.list.d"
    deb822.mkdir(parents=True)
    (deb822 / "node.sources").write_text("Types: deb\nURIs: https://deb.example.org/node_20.x\n")
    (deb822 / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\n\n"
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n"
    )
    assert bytecode.apt_archive(tmp_path / "a") == "http://mirror.example/debian"
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "sources.list").write_text(
        "# deb http://old.example/debian bookworm main\n"
        "deb [signed-by=/usr/share/keyrings/debian.gpg] http://one.example/debian bookworm main\n"
    )
    assert bytecode.apt_archive(tmp_path / "b") == "http://one.example/debian"
    with pytest.raises(bytecode.BytecodeBuildError, match="no Debian archive"):
        bytecode.apt_archive(tmp_path / "c")
