"""Each Lambda function registers only routes the route table sends to it, and its route modules
are imported only when its resolver is built (cold starts, issue 14): the API Gateway routes built
from `ROUTE_TABLE` and the handlers' own resolvers agree."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from vigil.api.app import new_resolver
from vigil.api.functions import ALERTS, ALL_REGISTRARS, HEALTH, METRICS, RouteModule
from vigil.api.route_table import match_function

FUNCTIONS = {"metrics": METRICS, "health": HEALTH, "alerts": ALERTS}


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_route_a_function_registers_is_routed_to_that_function(function: str) -> None:
    app = new_resolver(FUNCTIONS[function])
    paths = {r.path for r in app._static_routes + app._dynamic_routes}
    assert paths
    for path in paths:
        concrete = re.sub(r"<\w+>", "x1", path)  # a value for each path parameter
        binding = match_function(concrete)
        assert binding is not None and binding.function == function, (path, binding)


def test_every_route_module_belongs_to_exactly_one_function() -> None:
    names = [m.name for m in ALL_REGISTRARS if isinstance(m, RouteModule)]
    assert len(names) == len(set(names)) == len(ALL_REGISTRARS)


def test_importing_a_function_s_registrars_imports_no_route_module() -> None:
    code = "import sys, vigil.api.functions\nprint(sorted(m for m in sys.modules if m.endswith('_routes')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_resolver_without_validation_refuses_a_route_that_takes_input() -> None:
    def register(app: APIGatewayHttpResolver) -> None:
        @app.get("/things/<thing_id>")
        def thing(thing_id: str) -> dict[str, str]:
            return {"id": thing_id}

    with pytest.raises(TypeError, match="/things/<thing_id> takes"):
        new_resolver([register], validation=False)
    assert new_resolver([register])  # validated, the same route is fine


def test_the_health_function_s_resolver_validates_nothing_and_loads_no_pydantic() -> None:
    code = (
        "import sys\nfrom vigil.api.app import new_resolver\nfrom vigil.api.functions import HEALTH\n"
        "app = new_resolver(HEALTH, validation=False)\n"
        "print(sorted(r.path for r in app._static_routes), 'pydantic' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['/health', '/health'] False"


def _fresh_process_prints(*lines: str) -> str:
    """What `lines` print in a fresh interpreter that first built the given functions' resolvers."""
    code = "\n".join(("import sys", "from vigil.api.app import new_resolver", *lines))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_building_the_api_functions_resolvers_loads_none_of_powertools_other_resolvers() -> None:
    assert (
        _fresh_process_prints(
            "from vigil.api.functions import ALERTS, HEALTH, METRICS",
            "new_resolver(HEALTH, validation=False), new_resolver(METRICS), new_resolver(ALERTS)",
            "appsync = 'aws_lambda_powertools.event_handler.appsync'",
            "print([m for m in ('asyncio', appsync) if m in sys.modules])",
        )
        == "[]"
    )


def test_powertools_other_resolvers_still_import_from_its_package_after_a_lean_start() -> None:
    printed = _fresh_process_prints(
        "from vigil.api.functions import HEALTH",
        "new_resolver(HEALTH, validation=False)",
        "from aws_lambda_powertools.event_handler import AppSyncResolver, Response, content_types",
        "from aws_lambda_powertools.event_handler import api_gateway",
        "print(AppSyncResolver.__name__, Response is api_gateway.Response, content_types.APPLICATION_JSON)",
        "import aws_lambda_powertools.event_handler as package",
        "print(hasattr(package, 'NoSuchResolver'))",
    )
    assert printed.split() == ["AppSyncResolver", "True", "application/json", "False"]


def test_the_metrics_resolver_loads_the_otlp_decoder_only_when_an_otlp_request_arrives() -> None:
    assert (
        _fresh_process_prints(
            "from vigil.api.functions import METRICS",
            "new_resolver(METRICS)",
            "print([m for m in ('google.protobuf', 'vigil.services.otlp') if m in sys.modules])",
        )
        == "[]"
    )
