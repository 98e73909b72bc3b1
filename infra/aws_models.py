"""The AWS service models the Lambda layer ships: botocore's data for the services Vigil calls, no other.

botocore carries the model of every AWS service (about 450 folders, 28 MB unzipped), and a layer that
ships them all pays for it on every cold start: making the first client lists every service folder to
check the name (`Loader.list_available_services`: ~900 directory listings and ~2,700 stats), and the
session parses `endpoints.json` (1.2 MB: every service in every partition). With only `SERVICES` kept,
and only their entries in `endpoints.json`, making a DynamoDB client takes ~20 ms instead of ~55 ms
(x86_64 here) and the layer is ~26 MB smaller. Calls to kept services behave exactly as before:
their endpoint rule sets and partition data are untouched, and their models lose only the
documentation strings botocore uses for docstrings (`_strip_documentation`: parsing them was the
larger part of making a client).

A service the code calls but the layer lacks fails in Lambda only (`UnknownServiceError`), so
`tests/infra/test_layer_aws_models.py` checks that every client Vigil makes is for a kept service and
that every kept service's client can be made from the pruned data. Standard library only (it runs in
`infra/build_layer.py`).
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

# botocore service names (`client("<name>")`); each entry is what some function's role grants.
SERVICES = (
    "cloudwatch",  # the cost job's GetMetricData (metrics function)
    "dynamodb",  # the store (every API function)
    "kms",  # sealed channel secrets (alerts, notify)
    "s3",  # the public status page (alerts)
    "sns",  # alert fan-out and SMS (alerts, notify)
    "sqs",  # the notify dead-letter queue (alerts)
)
# What `prune` and `write_marshal` do to the data, in the layer's build stamp (`infra/build_layer.py`): a
# change rebuilds the layer. 3: the models lose their documentation (but S3's clientContextParams) and
# are stored as plain JSON; 4: every data file has a `.marshal` copy too.
FORMAT = 4
# Run by the runtime's Python: `marshal`'s format is the reader's (as the pycs are), so the copies are
# written by the interpreter that compiles the layer (its minimal standard library has zlib, not gzip:
# wbits 47 reads a gzip header). argv[1]: botocore's data folder.
_MARSHAL_SCRIPT = """
import json, marshal, pathlib, sys, zlib
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.json*")):
    if path.name.endswith((".json", ".json.gz")):
        raw = zlib.decompress(path.read_bytes(), 47) if path.suffix == ".gz" else path.read_bytes()
        name = path.name.removesuffix(".gz").removesuffix(".json") + ".marshal"
        path.with_name(name).write_bytes(marshal.dumps(json.loads(raw)))
"""


class ModelsMissing(RuntimeError):
    """botocore's data lacks a service Vigil calls (a renamed service, or a botocore too old)."""


def prune(site: Path, services: tuple[str, ...] = SERVICES) -> None:
    """Remove from `<site>/botocore/data` every service folder not in `services`, and their entries
    from `endpoints.json`.

    Raises:
        ModelsMissing: botocore's data has no model for one of `services`.
    """
    data = site / "botocore" / "data"
    missing = [name for name in services if _model(data / name) is None]
    if missing:
        raise ModelsMissing(f"botocore in {site} has no model for {', '.join(missing)}")
    prefixes = {_endpoint_prefix(data / name) for name in services}
    for folder in data.iterdir():
        if folder.is_dir() and folder.name not in services:
            shutil.rmtree(folder)
    endpoints_file = data / "endpoints.json"
    endpoints = json.loads(endpoints_file.read_text())
    for partition in endpoints["partitions"]:
        partition["services"] = {k: v for k, v in partition["services"].items() if k in prefixes}
    endpoints_file.write_text(json.dumps(endpoints, separators=(",", ":")))
    for name in services:
        _strip_documentation(data / name)


def write_marshal(site: Path, python: list[str]) -> None:
    """Write `<name>.marshal` beside every `<name>.json[.gz]` of `<site>/botocore/data`, the same data
    as `marshal` writes it, with `python` (the runtime's interpreter command).

    A botocore client parses its model, endpoint rule set, `endpoints.json`, `partitions.json` and
    retry configuration on every cold start; botocore's JSON loader does it with an `OrderedDict` per
    object, `marshal` several times faster (`vigil/adapters/aws_models.py` reads these copies: ≈ 22 M
    instructions off the DynamoDB client). The JSON stays: botocore's own loader still finds it.

    Raises:
        subprocess.CalledProcessError: the interpreter failed (the message is its output).
    """
    subprocess.run(
        [*python, "-I", "-c", _MARSHAL_SCRIPT, str(site / "botocore" / "data")],
        check=True,
        capture_output=True,
        timeout=300,
    )


def _strip_documentation(service_dir: Path) -> None:
    """Rewrite the model botocore loads as plain, minified JSON without its documentation strings.

    Making a client parses the whole `service-2.json` (with an `OrderedDict` per object), and most of
    its bytes are documentation, which botocore reads only to build docstrings: DynamoDB's model is
    556 kB, 113 kB without it, KMS's 547 kB and 68 kB, S3's 1.4 MB and 230 kB. Stored uncompressed,
    it is not gunzipped either (botocore tries `service-2.json` before `service-2.json.gz`). Together
    ≈ 6 ms of CPU off each cold start's DynamoDB client and ≈ 7 ms off a KMS client here.
    """
    model = _model(service_dir)
    assert model is not None  # `prune` checked
    raw = gzip.decompress(model.read_bytes()) if model.suffix == ".gz" else model.read_bytes()
    plain = model.with_name("service-2.json")
    plain.write_text(json.dumps(without_documentation(json.loads(raw)), separators=(",", ":")))
    if model != plain:
        model.unlink()


def without_documentation(node: Any, names: bool = False) -> Any:
    """`node` (a botocore model) without its `documentation`/`documentationUrl` entries. `names`: the
    keys of this mapping are names (of shapes, operations, members), never documentation, even a
    member that happens to be called `documentation`. `clientContextParams` (S3's) is kept whole:
    botocore reads each one's documentation when it makes the client."""
    if isinstance(node, dict):
        return {
            key: value
            if key in _KEPT_WHOLE and not names
            else without_documentation(value, key in _NAME_MAPS and not names)
            for key, value in node.items()
            if names or key not in _DOCUMENTATION
        }
    if isinstance(node, list):
        return [without_documentation(item) for item in node]
    return node


_DOCUMENTATION = frozenset({"documentation", "documentationUrl"})
_NAME_MAPS = frozenset({"shapes", "operations", "members"})  # their keys are names
_KEPT_WHOLE = frozenset({"clientContextParams"})  # `ServiceModel.client_context_parameters` needs it


def _model(service_dir: Path) -> Path | None:
    """The newest API version's `service-2.json[.gz]` (the one botocore loads), if any."""
    if not service_dir.is_dir():
        return None
    for version in sorted((p for p in service_dir.iterdir() if p.is_dir()), reverse=True):
        for name in ("service-2.json.gz", "service-2.json"):
            if (version / name).is_file():
                return version / name
    return None


def _endpoint_prefix(service_dir: Path) -> str:
    """The key of the service in `endpoints.json` (`monitoring` for cloudwatch)."""
    model = _model(service_dir)
    assert model is not None  # `prune` checked
    raw = gzip.decompress(model.read_bytes()) if model.suffix == ".gz" else model.read_bytes()
    doc: dict[str, Any] = json.loads(raw)
    return str(doc["metadata"]["endpointPrefix"])
