"""The botocore file loader the process's session reads service data with
(`vigil/adapters/aws_models.py`): the layer's `.marshal` copy first, then the JSON (plain or gzipped),
nothing when there is neither; a copy this Python cannot read falls back to the JSON."""

from __future__ import annotations

import gzip
import json
import marshal
from pathlib import Path

from vigil.adapters import aws
from vigil.adapters.aws_models import ModelFiles

MODEL = {"metadata": {"endpointPrefix": "things"}, "shapes": {"S": {"type": "string"}}}


def test_the_marshal_copy_is_read_before_the_json(tmp_path: Path) -> None:
    (tmp_path / "service-2.json").write_text(json.dumps({"from": "json"}))
    (tmp_path / "service-2.marshal").write_bytes(marshal.dumps(MODEL))
    assert ModelFiles().load_file(str(tmp_path / "service-2")) == MODEL


def test_without_a_copy_the_json_or_its_gzip_is_read_as_plain_dicts(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps(MODEL))
    (tmp_path / "b.json.gz").write_bytes(gzip.compress(json.dumps(MODEL).encode()))
    files = ModelFiles()
    for name in ("a", "b"):
        loaded = files.load_file(str(tmp_path / name))
        assert loaded == MODEL and type(loaded) is dict and type(loaded["shapes"]) is dict
        assert files.exists(str(tmp_path / name))


def test_a_copy_that_does_not_load_falls_back_to_the_json(tmp_path: Path) -> None:
    (tmp_path / "service-2.json").write_text(json.dumps(MODEL))
    (tmp_path / "service-2.marshal").write_bytes(b"\xff not marshal")
    assert ModelFiles().load_file(str(tmp_path / "service-2")) == MODEL


def test_a_file_that_is_not_there_is_none_as_botocore_expects(tmp_path: Path) -> None:
    assert ModelFiles().load_file(str(tmp_path / "missing")) is None
    assert not ModelFiles().exists(str(tmp_path / "missing"))


def test_the_process_session_reads_through_these_files() -> None:
    loader = aws.session().get_component("data_loader")
    assert isinstance(loader.file_loader, ModelFiles)
    assert loader.load_service_model("dynamodb", "service-2")["metadata"]["endpointPrefix"] == "dynamodb"
