"""Cost readout arithmetic: hourly usage (what AWS bills by) priced with `vigil.domain.pricing`.

`Usage` is one hour's (or a sum of hours') billable units: API Gateway requests, Lambda requests and
GB-seconds, DynamoDB read/write request units, storage as GB-hours (GB stored x hours), SNS publishes
and deliveries, CloudWatch Logs bytes ingested, and `seconds`, how much time the usage covers (an
hour, or less for the local server's current hour). `components(usage, pricing)` prices each part;
`readout(...)` is the `GET /api/cost` body. Per host-month = the window's total / hosts, scaled from
the time covered to a 30-day month (so a deployment two hours old still gives a monthly figure).

Pure: standard library only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from vigil.domain.pricing import HOURS_PER_MONTH, Pricing

WINDOWS = {"24h": 24 * 3600.0, "30d": 30 * 86400.0}


@dataclass
class Usage:
    seconds: float = 0.0
    api_requests: float = 0.0
    lambda_requests: float = 0.0
    lambda_gb_seconds: float = 0.0
    rru: float = 0.0
    wru: float = 0.0
    storage_gb_hours: float = 0.0
    sns_publishes: float = 0.0
    sns_deliveries: float = 0.0
    log_bytes: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def to_doc(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Usage:
        """From a stored usage document; unknown keys (an `hour`, a document id) are ignored."""
        return cls(**{f.name: float(doc.get(f.name) or 0.0) for f in fields(cls)})


# (component name, unit, Usage field, price, units per priced unit)
_COMPONENTS: tuple[tuple[str, str, str, str, float], ...] = (
    ("API Gateway requests", "requests", "api_requests", "http_request", 1.0),
    ("Lambda requests", "requests", "lambda_requests", "lambda_request", 1.0),
    ("Lambda compute (arm64)", "GB-s", "lambda_gb_seconds", "gb_second", 1.0),
    ("DynamoDB reads", "RRU", "rru", "rru", 1.0),
    ("DynamoDB writes", "WRU", "wru", "wru", 1.0),
    ("DynamoDB storage", "GB-month", "storage_gb_hours", "gb_month", HOURS_PER_MONTH),
    ("SNS publishes", "requests", "sns_publishes", "sns_publish", 1.0),
    ("SNS deliveries", "deliveries", "sns_deliveries", "sns_delivery", 1.0),
    ("CloudWatch Logs ingestion", "GB", "log_bytes", "log_gb", 1e9),
)


def components(usage: Usage, pricing: Pricing) -> list[dict[str, Any]]:
    """`[{"name", "usd", "units", "unit"}]` in a fixed order; units in the priced unit."""
    prices = pricing.as_dict()
    out = []
    for name, unit, attr, price, per in _COMPONENTS:
        units = getattr(usage, attr) / per
        out.append({"name": name, "usd": _round(units * prices[price]), "units": _round(units), "unit": unit})
    return out


def total_usd(usage: Usage, pricing: Pricing) -> float:
    """The unrounded sum of every component (what bench_cost's per-part sums add up to)."""
    prices = pricing.as_dict()
    return float(sum(getattr(usage, attr) / per * prices[price] for _n, _u, attr, price, per in _COMPONENTS))


def readout(window: str, usage: Usage, hosts: int, pricing: Pricing) -> dict[str, Any]:
    """The `GET /api/cost` body for `usage` summed over `window`."""
    total = total_usd(usage, pricing)
    hours = usage.seconds / 3600.0
    monthly = total * HOURS_PER_MONTH / hours if hours > 0 else 0.0
    return {
        "window": window,
        "hosts": hosts,
        "hours": round(hours, 3),
        "total_usd": _round(total),
        "per_host_month_usd": _round(monthly / hosts) if hosts else None,
        "deployment_month_usd": _round(monthly),
        "components": components(usage, pricing),
        "pricing": {"region": pricing.region, "date": pricing.date},
    }


def _round(x: float) -> float:
    return float(f"{x:.6g}")
