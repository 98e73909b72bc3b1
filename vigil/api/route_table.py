"""Which Lambda function serves which HTTP path — the one table both the CDK API and the local
gateway are built from, so local mode and AWS route identically.

Paths use API Gateway syntax (`{name}` one segment, `{proxy+}` the rest). Every path is bound with
method `ANY` so the function itself answers 405 for an undeclared method (API Gateway would answer 404).
`auth` says who API Gateway lets through: `public` (no authorizer), `ingest` (no API Gateway authorizer:
the handler checks the hashed ingest key, so keys minted at run time work without redeploying), `user`
(Cognito JWT authorizer in AWS; in local mode the handler checks the admin/viewer token).

Standard library only: imported by infra/ and by the local gateway.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

FunctionName = Literal["metrics", "health", "alerts", "notify"]
RouteAuth = Literal["public", "ingest", "user"]
# Each function's memory: infra/functions.py sizes the functions with it, and the local cost meter
# prices local invocations' GB-seconds with it (what the same work would be billed in AWS).
FUNCTION_MEMORY_MB: dict[FunctionName, int] = {"metrics": 1024, "health": 256, "alerts": 1769, "notify": 256}
# The jobs function (the metrics code, no routes: EventBridge invokes it for the fleet tier, the cost
# readout and the sharded rollups): one full vCPU, which Lambda gives at 1,769 MB. Its runs are CPU in
# Python, one thread: more memory would add vCPUs they cannot use. docs/data-model.md, "Scheduled runs".
JOBS_MEMORY_MB = 1769


@dataclass(frozen=True)
class RouteBinding:
    path: str
    function: FunctionName
    auth: RouteAuth


ROUTE_TABLE: tuple[RouteBinding, ...] = (
    RouteBinding("/health", "health", "public"),
    RouteBinding("/openapi.json", "metrics", "public"),
    RouteBinding("/v1/{proxy+}", "metrics", "ingest"),
    RouteBinding("/api/v1/write", "metrics", "ingest"),  # Prometheus remote-write (ingest key)
    RouteBinding("/api/alerts", "alerts", "user"),
    RouteBinding("/api/alerts/{proxy+}", "alerts", "user"),
    RouteBinding("/api/channels", "alerts", "user"),
    RouteBinding("/api/channels/{proxy+}", "alerts", "user"),
    RouteBinding("/api/checks", "alerts", "user"),
    RouteBinding("/api/checks/{proxy+}", "alerts", "user"),
    RouteBinding("/api/notifications", "alerts", "user"),
    RouteBinding("/api/notifications/{proxy+}", "alerts", "user"),
    RouteBinding("/api/push/{proxy+}", "alerts", "user"),
    RouteBinding("/api/{proxy+}", "metrics", "user"),
)


@functools.lru_cache(maxsize=1024)  # asked two or three times per request; bounded against random paths
def match_function(path: str) -> RouteBinding | None:
    """The binding API Gateway would pick: exact paths first, then the longest greedy prefix."""
    for binding in ROUTE_TABLE:
        if "{" not in binding.path and binding.path == path:
            return binding
    best: RouteBinding | None = None
    for binding in ROUTE_TABLE:
        if binding.path.endswith("/{proxy+}"):
            prefix = binding.path[: -len("{proxy+}")]
            longer = best is None or len(binding.path) > len(best.path)
            if path.startswith(prefix) and len(path) > len(prefix) and longer:
                best = binding
    return best
