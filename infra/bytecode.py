"""Byte-code for the Lambda runtime's Python, made on a machine that does not have that Python.

Lambda mounts a layer read-only at `/opt`, so a layer without `.pyc` files makes every cold start
compile every module it imports (about a second per function), and CPython only reads byte-code its
own minor version wrote. Our build machines run Debian 12's CPython 3.11; the runtime is python3.14.
So the build borrows Debian's own CPython 3.14 (`DEBIAN_SUITE`, whose python3.14 is the 3.14 line for
good): it fetches the few packages that interpreter needs from the Debian archive apt uses here
(`/etc/apt`), verifies them
(`InRelease` by Debian's archive key with gpgv, `Packages.xz` by the SHA-256 in the verified
`InRelease`, each `.deb` by the SHA-256 in `Packages`), unpacks them with `dpkg-deb -x` into
`build/python3.14/` (kept: later builds are offline) and runs that interpreter through the unpacked
dynamic loader, because the host's glibc is older than the one it was built against.

Byte-code is written as `unchecked-hash` pycs. Timestamp pycs (the default) would be stale in Lambda:
the CDK zips assets with every entry dated 1980-01-01, so the source mtime Lambda sees never matches
the one recorded at build time, the import system would recompile every module on every cold start
and fail to write the result to the read-only `/opt`. `checked-hash` pycs would work but hash every
source file on every import. The layer is immutable (any source change is a new layer version, built
and compiled anew from the same sources), which is exactly when unchecked pycs are safe.

Standard library only (it runs inside `infra/build_layer.py`, before and without the CDK).
"""

from __future__ import annotations

import hashlib
import json
import lzma
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON_VERSION = "3.14"
INTERPRETER_DIR = ROOT / "build" / f"python{PYTHON_VERSION}"
# The Debian archive apt uses on this machine (/etc/apt), unless set; plain HTTP is fine: every byte is
# checked against the archive's signature.
MIRROR: str | None = None
APT_DIR = Path("/etc/apt")
# forky (Debian 14) carries python3.14 as its only Python and keeps it once released; sid moves on.
DEBIAN_SUITE = "forky"
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
# What `python3.14 -m compileall` needs: the interpreter, its minimal stdlib, and the glibc, zlib and
# expat it was linked against.
COMPILE_PACKAGES = ("python3.14-minimal", "libpython3.14-minimal", "libc6", "zlib1g", "libexpat1")
# What running Vigil's handlers needs on top (the benchmark): the full stdlib and its C libraries.
RUN_PACKAGES = (
    *COMPILE_PACKAGES,
    "libpython3.14-stdlib",
    "libffi8",
    "libssl3t64",
    "libzstd1",
    "libsqlite3-0",
    "libbz2-1.0",
    "liblzma5",
    "libuuid1",
    "libmpdec4",
    "libgcc-s1",
)
INVALIDATION_MODE = "unchecked-hash"
_STAMP = ".packages.json"
_TIMEOUT_S = 60


class BytecodeBuildError(RuntimeError):
    """The runtime's interpreter could not be fetched, verified or run."""


def interpreter(packages: tuple[str, ...] = COMPILE_PACKAGES) -> list[str]:
    """The command that runs Debian's CPython 3.14 from `build/python3.14/`, fetching it first if
    the folder lacks any of `packages`.

    Raises:
        BytecodeBuildError: the archive could not be reached, a signature or checksum did not match,
            or gpgv / dpkg-deb / Debian's archive keyring is missing.
    """
    stamp = INTERPRETER_DIR / _STAMP
    have = json.loads(stamp.read_text()) if stamp.is_file() else {}
    if not set(packages) <= set(have):
        _install(tuple(sorted(set(packages) | set(have))))
    return _command(INTERPRETER_DIR / "root")


def _command(root: Path) -> list[str]:
    libs = [root / "usr/lib/x86_64-linux-gnu", root / "lib/x86_64-linux-gnu"]
    loader = root / "usr/lib64/ld-linux-x86-64.so.2"
    binary = root / f"usr/bin/python{PYTHON_VERSION}"
    return [str(loader), "--library-path", ":".join(map(str, libs)), str(binary)]


def magic_number(command: list[str]) -> bytes:
    """`importlib.util.MAGIC_NUMBER` of the interpreter `command` runs: the first four bytes of
    every pyc it writes and accepts."""
    code = "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"
    return bytes.fromhex(_run([*command, "-I", "-c", code]).strip())


def compile_tree(folder: Path, command: list[str], runtime_path: str) -> None:
    """Write `__pycache__/*.cpython-314.pyc` beside every `.py` under `folder`, recording
    `runtime_path` (where Lambda will see `folder`) as their source path for tracebacks.

    Raises:
        BytecodeBuildError: a file did not compile (a syntax error under 3.14).
    """
    # One worker: compileall's worker processes would start sys.executable without the unpacked loader.
    _run(
        [
            *command, "-I", "-m", "compileall", "-q", "-j", "1",
            "--invalidation-mode", INVALIDATION_MODE,
            "-s", str(folder), "-p", runtime_path, str(folder),
        ]
    )  # fmt: skip


def _run(cmd: list[str]) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)
    except OSError as exc:
        raise BytecodeBuildError(f"cannot run {cmd[0]}: {exc}") from exc
    if done.returncode != 0:
        raise BytecodeBuildError(f"{' '.join(cmd[-3:])} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done.stdout


def apt_archive(etc: Path = APT_DIR) -> str:
    """The first Debian archive (a URI ending in `/debian`) in apt's sources, deb822 or one-line.

    Raises:
        BytecodeBuildError: apt has no Debian archive configured.
    """
    for path in sorted(etc.glob("sources.list.d/*.sources")):
        for uri in re.findall(r"^URIs:\s*(.+)$", path.read_text(), re.M):
            found = [u.rstrip("/") for u in uri.split() if u.rstrip("/").endswith("/debian")]
            if found:
                return found[0]
    for path in [etc / "sources.list", *sorted(etc.glob("sources.list.d/*.list"))]:
        text = path.read_text() if path.is_file() else ""
        for uri in re.findall(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)", text, re.M):
            if uri.rstrip("/").endswith("/debian"):
                return uri.rstrip("/")
    raise BytecodeBuildError(f"apt has no Debian archive configured in {etc} (a `.../debian` URI)")


def _fetch(path: str) -> bytes:
    url = f"{MIRROR or apt_archive()}/{path}"
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response:
            data: bytes = response.read()
            return data
    except OSError as exc:
        raise BytecodeBuildError(
            f"cannot fetch {url} ({exc}). The Lambda layer's byte-code is compiled by Debian's "
            f"python{PYTHON_VERSION}, downloaded once into {INTERPRETER_DIR}; this machine needs "
            "access to Debian's package archive for that first build."
        ) from exc


def _verified_release() -> str:
    for tool in ("gpgv", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise BytecodeBuildError(f"{tool} is missing: apt-get install {tool.replace('dpkg-deb', 'dpkg')}")
    if not KEYRING.is_file():
        raise BytecodeBuildError(f"{KEYRING} is missing: apt-get install debian-archive-keyring")
    signed = _fetch(f"dists/{DEBIAN_SUITE}/InRelease")
    done = subprocess.run(
        ["gpgv", "--keyring", str(KEYRING), "--output", "-", "-"],
        input=signed,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise BytecodeBuildError(f"{DEBIAN_SUITE}/InRelease: bad signature\n{done.stderr.decode()[-1000:]}")
    return done.stdout.decode()


def _expect(data: bytes, sha256: str, what: str) -> bytes:
    if hashlib.sha256(data).hexdigest() != sha256:
        raise BytecodeBuildError(f"{what}: SHA-256 does not match the signed index")
    return data


def _package_index() -> dict[str, dict[str, str]]:
    """Package name -> its `Packages` stanza fields, from the verified amd64 index."""
    release = _verified_release()
    name = "main/binary-amd64/Packages.xz"
    found = re.search(rf"^ ([0-9a-f]{{64}}) +\d+ {re.escape(name)}$", release, re.M)
    if found is None:
        raise BytecodeBuildError(f"{DEBIAN_SUITE}/InRelease lists no {name}")
    packed = _expect(_fetch(f"dists/{DEBIAN_SUITE}/{name}"), found.group(1), name)
    index: dict[str, dict[str, str]] = {}
    for stanza in lzma.decompress(packed).decode().split("\n\n"):
        fields = dict(re.findall(r"^([A-Za-z0-9-]+): (.*)$", stanza, re.M))
        if "Package" in fields:
            index[fields["Package"]] = fields
    return index


def _install(packages: tuple[str, ...]) -> None:
    index = _package_index()
    missing = [p for p in packages if p not in index]
    if missing:
        raise BytecodeBuildError(f"Debian {DEBIAN_SUITE} has no {', '.join(missing)}")
    staging = INTERPRETER_DIR.with_name(INTERPRETER_DIR.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "debs").mkdir(parents=True)
    for name in packages:
        fields = index[name]
        deb = staging / "debs" / Path(fields["Filename"]).name
        deb.write_bytes(_expect(_fetch(fields["Filename"]), fields["SHA256"], fields["Filename"]))
        _run(["dpkg-deb", "-x", str(deb), str(staging / "root")])
    shutil.rmtree(staging / "debs")
    # Debian writes its stdlib's pycs when installing a package; unpacked by hand, it has none.
    stdlib = staging / "root" / "usr" / "lib" / f"python{PYTHON_VERSION}"
    compile_tree(stdlib, _command(staging / "root"), str(stdlib))
    versions = {name: index[name]["Version"] for name in packages}
    (staging / _STAMP).write_text(json.dumps(versions, indent=1, sort_keys=True) + "\n")
    shutil.rmtree(INTERPRETER_DIR, ignore_errors=True)
    staging.rename(INTERPRETER_DIR)  # all or nothing, like the layer itself


def main() -> int:
    """`python -m infra.bytecode`: fetch (once) and check the runtime's interpreter (`make test` does)."""
    try:
        command = interpreter()
        magic = magic_number(command)
    except BytecodeBuildError as exc:
        print(f"python{PYTHON_VERSION} for the layer's byte-code is not available: {exc}", file=sys.stderr)
        return 1
    print(f"python{PYTHON_VERSION} ready in {INTERPRETER_DIR} (pyc magic {magic.hex()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
