"""Which route modules make up each Lambda function (the route table says which paths go where)."""

from __future__ import annotations

from vigil.api import (
    alert_routes,
    cost_routes,
    dashboard_routes,
    dead_letter_routes,
    export_routes,
    health_routes,
    ingest_routes,
    key_routes,
    meta_routes,
    otlp_routes,
    query_routes,
    trace_routes,
)
from vigil.api.app import Registrar

METRICS: tuple[Registrar, ...] = (
    ingest_routes.register,
    otlp_routes.register,
    query_routes.register,
    export_routes.register,
    trace_routes.register,
    key_routes.register,
    dashboard_routes.register,
    meta_routes.register,
    cost_routes.register,
)
HEALTH: tuple[Registrar, ...] = (health_routes.register,)
ALERTS: tuple[Registrar, ...] = (alert_routes.register, dead_letter_routes.register)
ALL_REGISTRARS: tuple[Registrar, ...] = METRICS + HEALTH + ALERTS
