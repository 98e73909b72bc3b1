"""`vigil.api.lean_powertools`: Powertools' `event_handler` and `data_classes` packages load without
their eager `__init__` (a cold-start saving), every name listed comes from the submodule the list
names, and any other name still works through the package's real `__init__`. Each case that depends
on import order runs in a fresh interpreter."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from vigil.api.lean_powertools import LEAN_PACKAGES

LISTED = [(package, name, sub) for package, names in LEAN_PACKAGES.items() for name, sub in names.items()]


@pytest.mark.parametrize(("package", "name", "submodule"), LISTED)
def test_every_listed_name_is_defined_by_the_submodule_the_list_names(
    package: str, name: str, submodule: str
) -> None:
    module = importlib.import_module(f"{package}.{submodule}")
    assert isinstance(getattr(module, name), type)


FRESH = """
import json, sys
import vigil.api
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.api_gateway import Response
eager = sorted(m for m in sys.modules if m.endswith((".s3_event", ".kafka_event", ".code_pipeline_job_event",
                                                      ".appsync_resolver")) or m == "asyncio")
from aws_lambda_powertools.utilities.data_classes import S3Event, APIGatewayProxyEventV2
from aws_lambda_powertools.event_handler import AppSyncResolver
print(json.dumps({"eager": eager, "late": [S3Event.__name__, AppSyncResolver.__name__]}))
"""


def test_the_api_resolver_loads_without_the_other_event_classes_which_still_import_on_demand() -> None:
    done = subprocess.run([sys.executable, "-c", FRESH], capture_output=True, text=True, check=True)
    out = json.loads(done.stdout)
    assert out == {"eager": [], "late": ["S3Event", "AppSyncResolver"]}
