"""The layer ships botocore's models of the AWS services Vigil calls and no other (issue 14, cold
starts; `infra/aws_models.py`): every client the code makes is for a shipped service, every service a
function's role grants is shipped, clients made from the pruned data resolve the same endpoints
as clients made from botocore's full data, the models differ from botocore's only by their
documentation strings (parsing them was most of making a client), and the marshal copies the
functions read (`vigil/adapters/aws_models.py`) hold what the JSON holds.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import botocore.session
import pytest
from botocore.loaders import JSONFileLoader, Loader

from infra import aws_models
from tests.infra.deployed import Deployment
from vigil.adapters import aws_models as aws_models_loader
from vigil.adapters.aws_models import ModelFiles

if TYPE_CHECKING:
    from tests.infra.conftest import Synth

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

ROOT = Path(__file__).resolve().parents[2]
# `aws.client("sns")`, `self._client("cloudwatch")`, `boto3.client("s3")`: how Vigil makes clients.
CLIENT_CALL = re.compile(r"""client\(\s*["']([a-z0-9-]+)["']""")
RUNTIME_ONLY = {"logs"}  # granted for the Lambda runtime's own log writes, never called by our code
# AppSync Events: one SigV4-signed HTTPS POST (`adapters/live_events.py`), no botocore service model
SIGNED_ONLY = {"appsync"}
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1")


def _session(data: Path | None) -> botocore.session.Session:
    """A botocore session reading only `data` (the layer's models), or botocore's full data."""
    session = botocore.session.get_session()
    if data is not None:
        session.register_component("data_loader", Loader([str(data)], include_default_search_paths=False))
    return session


def test_every_client_the_code_makes_is_for_a_service_the_layer_ships() -> None:
    made: dict[str, str] = {}
    for path in (ROOT / "vigil").rglob("*.py"):
        for service in CLIENT_CALL.findall(path.read_text()):
            made[service] = str(path.relative_to(ROOT))
    assert {"dynamodb", "sns", "kms"} <= set(made)  # the scan finds the clients
    assert {s: p for s, p in made.items() if s not in aws_models.SERVICES} == {}


def test_every_service_a_function_s_role_grants_is_shipped(synth: Synth) -> None:
    deployment = Deployment(synth.raw, "http://unused")
    granted: set[str] = set()
    for function in deployment.function_ids():
        for statement in deployment.statements(function):
            actions: Any = statement["Action"]
            granted |= {a.split(":")[0] for a in (actions if isinstance(actions, list) else [actions])}
    assert granted - RUNTIME_ONLY - SIGNED_ONLY <= set(aws_models.SERVICES), sorted(granted)


def test_the_layer_ships_only_those_models_and_their_endpoints(layer_dir: Path) -> None:
    data = layer_dir / "python" / "botocore" / "data"
    assert sorted(p.name for p in data.iterdir() if p.is_dir()) == sorted(aws_models.SERVICES)
    endpoints = json.loads((data / "endpoints.json").read_text())
    aws = next(p for p in endpoints["partitions"] if p["partition"] == "aws")
    assert sorted(aws["services"]) == sorted(["dynamodb", "kms", "monitoring", "s3", "sns", "sqs"])
    assert (data / "partitions.json").is_file() and (data / "_retry.json").is_file()


@pytest.mark.parametrize("service", aws_models.SERVICES)
def test_a_client_made_from_the_layer_s_models_resolves_as_botocore_s_full_data(
    layer_dir: Path, service: str
) -> None:
    pruned = _session(layer_dir / "python" / "botocore" / "data")
    full = _session(None)
    for region in REGIONS:
        made = pruned.create_client(
            service, region_name=region, aws_access_key_id="x", aws_secret_access_key="y"
        )
        reference = full.create_client(
            service, region_name=region, aws_access_key_id="x", aws_secret_access_key="y"
        )
        assert made.meta.endpoint_url == reference.meta.endpoint_url, (service, region)
        assert made.meta.service_model.operation_names == reference.meta.service_model.operation_names


@pytest.mark.parametrize("service", aws_models.SERVICES)
def test_the_layer_s_models_load_as_plain_json_without_documentation_and_otherwise_unchanged(
    layer_dir: Path, service: str
) -> None:
    pruned = _session(layer_dir / "python" / "botocore" / "data").get_service_model(service)
    full = _session(None).get_service_model(service)
    assert pruned.documentation == "" and full.documentation
    assert len(list((layer_dir / "python" / "botocore" / "data" / service).glob("*/service-2.json.gz"))) == 0
    assert aws_models.without_documentation(full._service_description) == pruned._service_description
    assert pruned.client_context_parameters == full.client_context_parameters  # S3's need their text


def test_stripping_documentation_keeps_members_called_documentation_and_client_context_params() -> None:
    model = {
        "documentation": "the service",
        "operations": {"Get": {"input": {"shape": "In"}, "documentation": "gets"}},
        "shapes": {
            "In": {"type": "structure", "members": {"documentation": {"shape": "documentation"}}},
            "documentation": {"type": "string", "documentation": "a shape so named"},
        },
        "clientContextParams": {"Accelerate": {"type": "boolean", "documentation": "read by botocore"}},
    }
    assert aws_models.without_documentation(model) == {
        "operations": {"Get": {"input": {"shape": "In"}}},
        "shapes": {
            "In": {"type": "structure", "members": {"documentation": {"shape": "documentation"}}},
            "documentation": {"type": "string"},
        },
        "clientContextParams": {"Accelerate": {"type": "boolean", "documentation": "read by botocore"}},
    }


def test_a_service_botocore_has_no_model_for_stops_the_build(tmp_path: Path) -> None:
    data = tmp_path / "botocore" / "data"
    (data / "dynamodb" / "2012-08-10").mkdir(parents=True)
    (data / "dynamodb" / "2012-08-10" / "service-2.json").write_text(
        '{"metadata": {"endpointPrefix": "dynamodb"}}'
    )
    (data / "endpoints.json").write_text('{"partitions": []}')
    with pytest.raises(aws_models.ModelsMissing, match="dynamodbx"):
        aws_models.prune(tmp_path, ("dynamodb", "dynamodbx"))
    assert (data / "dynamodb").is_dir()  # nothing removed


def test_every_data_file_in_the_layer_has_a_marshal_copy_holding_what_its_json_holds(layer_dir: Path) -> None:
    data = layer_dir / "python" / "botocore" / "data"
    reference, copies = JSONFileLoader(), ModelFiles()
    stems = {str(p)[: -len(".json.gz" if p.suffix == ".gz" else ".json")] for p in data.rglob("*.json*")}
    assert len(stems) > 20  # every service's model, rule set, paginators...; the shared files
    for stem in sorted(stems):
        assert Path(stem + ".marshal").is_file(), stem
        assert copies.load_file(stem) == reference.load_file(stem), stem


def test_the_process_session_makes_clients_from_the_marshal_copies(
    layer_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The layer's data through `aws.session()`'s loader: the same client as from botocore's JSON."""
    monkeypatch.setenv("AWS_DATA_PATH", str(layer_dir / "python" / "botocore" / "data"))
    session = botocore.session.get_session()
    loader = aws_models_loader.data_loader(session)
    assert isinstance(loader.file_loader, ModelFiles)
    assert loader.search_paths[0] == str(layer_dir / "python" / "botocore" / "data")
    session.register_component("data_loader", loader)
    made = session.create_client(
        "dynamodb", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    reference = _session(layer_dir / "python" / "botocore" / "data").create_client(
        "dynamodb", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    assert made.meta.endpoint_url == reference.meta.endpoint_url
    assert made.meta.service_model._service_description == reference.meta.service_model._service_description
