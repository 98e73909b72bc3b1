"""Which route modules make up each Lambda function (the route table says which paths go where).

Each function names its route modules; a module is imported only when the function's resolver is
built (its first invocation), and only by the functions that serve it. That is the cold-start budget:
`health` never loads the OTLP/protobuf decoder, YAML or the alerting code, `metrics` never loads the
alerting routes. `tests/unit/test_function_routes.py` and the deploy-shaped invocations in
`tests/infra/test_deployed_functions.py` check what each handler really imports.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver


class RouteModule:
    """`register(app)` of `vigil.api.<name>`, importing that module on the first call."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, app: APIGatewayHttpResolver) -> None:
        importlib.import_module(f"vigil.api.{self.name}").register(app)

    def __repr__(self) -> str:
        return f"RouteModule({self.name!r})"


def _modules(*names: str) -> tuple[RouteModule, ...]:
    return tuple(RouteModule(name) for name in names)


METRICS = _modules(
    "ingest_routes",
    "otlp_routes",
    "remote_write_routes",
    "query_routes",
    "export_routes",
    "trace_routes",
    "key_routes",
    "dashboard_routes",
    "meta_routes",
    "cost_routes",
    "live_routes",
)
HEALTH = _modules("health_routes")
ALERTS = _modules("alert_routes", "dead_letter_routes", "check_routes", "push_routes")
ALL_REGISTRARS: Sequence[RouteModule] = METRICS + HEALTH + ALERTS
