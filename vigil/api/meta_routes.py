"""`GET /openapi.json`: the OpenAPI 3 document generated from every function's routes."""

# Route modules import Powertools at module level: its validation reads the annotations, which
# must resolve at registration time (no `from __future__ import annotations` here).
from functools import cache

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response


@cache
def openapi_document() -> str:
    """Built once per process from a resolver holding every route of every function."""
    import orjson

    from vigil.api.app import new_resolver
    from vigil.api.functions import ALL_REGISTRARS
    from vigil.api.openapi_bodies import with_request_bodies, without_no_content_bodies

    app = new_resolver(ALL_REGISTRARS)
    document = app.get_openapi_json_schema(
        title="Vigil API",
        version="1.0.0",
        description="Self-hosted performance monitoring: ingest, queries, alerting. Errors are "
        '{"error": {"code", "message", "field"}}.',
        security_schemes={"bearer": {"type": "http", "scheme": "bearer"}},  # type: ignore[dict-item]
        security=[{"bearer": []}],
    )
    return orjson.dumps(without_no_content_bodies(with_request_bodies(orjson.loads(document)))).decode()


def register(app: APIGatewayHttpResolver) -> None:
    @app.get("/openapi.json", tags=["meta"], summary="This document", include_in_schema=False)
    def openapi() -> Response[str]:
        return Response(200, "application/json", openapi_document())
