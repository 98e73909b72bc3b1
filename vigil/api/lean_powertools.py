"""Two Powertools packages without their eager `__init__`, for the cold start.

`aws_lambda_powertools/event_handler/__init__.py` imports every resolver Powertools has (AppSync,
AppSync Events, Bedrock agents, VPC Lattice, Function URLs...) to re-export them, and AppSync's
imports `asyncio`: about 90 M instructions, ~25 ms of each API function's first invocation, for
classes Vigil never uses (it uses only the HTTP API resolver, `api_gateway`, and `openapi.*`).
`aws_lambda_powertools/utilities/data_classes/__init__.py` imports all ~40 event classes (S3, Kafka,
CodePipeline with `tempfile` and `zipfile`, ...) while `api_gateway` needs seven of them: another
55 M instructions, ~8 % of the health function's cold start (`bench/bench_coldstart.py`).

`install()` registers each package as its bare module (`vigil.lean_packages`): a name the package
re-exports from a submodule listed below comes from that submodule, any other name runs the
package's real `__init__` once, so `from aws_lambda_powertools.event_handler import AppSyncResolver`
still works, only no longer on our cold start. Correctness never depends on the lists below, only
the time saved.

Installed by `vigil/api/__init__.py` (every route module, the resolver and the error handlers import
Powertools through `vigil.api`); a no-op for a package already imported.
`tests/infra/test_deployed_functions.py` checks that no function loads `asyncio`;
`tests/unit/test_lean_powertools.py` that every listed name is where the list says.
"""

from __future__ import annotations

from vigil import lean_packages

# package -> {name its __init__ re-exports: the submodule defining it} (Powertools 3.x)
LEAN_PACKAGES: dict[str, dict[str, str]] = {
    "aws_lambda_powertools.event_handler": dict.fromkeys(
        (
            "ALBResolver",
            "APIGatewayHttpResolver",
            "ApiGatewayResolver",
            "APIGatewayRestResolver",
            "CORSConfig",
            "Response",
        ),
        "api_gateway",
    ),
    "aws_lambda_powertools.utilities.data_classes": {  # what `event_handler.api_gateway` imports
        "ALBEvent": "alb_event",
        "APIGatewayProxyEvent": "api_gateway_proxy_event",
        "APIGatewayProxyEventV2": "api_gateway_proxy_event",
        "BedrockAgentEvent": "bedrock_agent_event",
        "LambdaFunctionUrlEvent": "lambda_function_url_event",
        "VPCLatticeEvent": "vpc_lattice",
        "VPCLatticeEventV2": "vpc_lattice",
    },
}


def install() -> None:
    """Register each bare package in `sys.modules`, unless it is already imported."""
    for package, names in LEAN_PACKAGES.items():
        lean_packages.install(package, names)
