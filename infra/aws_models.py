"""The AWS service models the Lambda layer ships: botocore's data for the services Vigil calls, no other.

botocore carries the model of every AWS service (about 450 folders, 28 MB unzipped), and a layer that
ships them all pays for it on every cold start: making the first client lists every service folder to
check the name (`Loader.list_available_services`: ~900 directory listings and ~2,700 stats), and the
session parses `endpoints.json` (1.2 MB: every service in every partition). With only `SERVICES` kept,
and only their entries in `endpoints.json`, making a DynamoDB client takes ~20 ms instead of ~55 ms
(x86_64 here) and the layer is ~26 MB smaller. Calls to kept services behave exactly as before:
their models, endpoint rule sets and partition data are untouched.

A service the code calls but the layer lacks fails in Lambda only (`UnknownServiceError`), so
`tests/infra/test_layer_aws_models.py` checks that every client Vigil makes is for a kept service and
that every kept service's client can be made from the pruned data. Standard library only (it runs in
`infra/build_layer.py`).
"""

from __future__ import annotations

import gzip
import json
import shutil
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
