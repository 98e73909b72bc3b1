"""The one pricing table: AWS list prices per region for the services a Vigil deployment uses, with
the date they were read. `GET /api/cost` prices usage with it and `bench/bench_cost.py` /
`bench/bench_scale.py` price their counted requests with it, so the readout and the benchmarks can
never disagree about a price.

On-demand list prices in US$ (first tier, no free tier): API Gateway HTTP API per request (first
300 M a month), Lambda per request and per GB-second on arm64, DynamoDB on-demand per read and write
request unit (after the November 2024 price cut) and per GB-month of standard storage, SNS per
publish and per delivery (HTTP/S rate: CloudWatch's NumberOfNotificationsDelivered does not tell
Lambda deliveries, which are free, from e-mail or SMS, which cost more), CloudWatch Logs per GB
ingested. Regions not in the table fall back to us-east-1, and the readout names the table it used.

Standard library only (a domain module).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

DEFAULT_REGION = "us-east-1"
HOURS_PER_MONTH = 720.0  # a 30-day month, as bench_cost extrapolates
# CloudWatch Logs bytes one API invocation ingests: its one EMF line (ApiLatency and the route's own
# count, with route/method/status metadata: <= 394 bytes, checked by tests/infra/test_deployed_functions)
# + 26 bytes of per-event overhead. Lambda's START/END/REPORT lines are not sent (system log level WARN,
# infra/functions.py) and a successful request logs nothing else.
LOG_BYTES_PER_INVOCATION = 420


@dataclass(frozen=True)
class Pricing:
    region: str
    date: str  # when these figures were read from aws.amazon.com/pricing (ISO date)
    http_request: float  # API Gateway HTTP API, per request
    lambda_request: float
    gb_second: float  # Lambda arm64
    rru: float  # DynamoDB on-demand read request unit
    wru: float  # DynamoDB on-demand write request unit
    gb_month: float  # DynamoDB standard table class storage
    sns_publish: float
    sns_delivery: float
    log_gb: float  # CloudWatch Logs ingestion (standard class)

    def as_dict(self) -> dict[str, float]:
        """Prices by name (the keys bench_cost and bench_scale use), without region and date."""
        return {k: v for k, v in asdict(self).items() if isinstance(v, float)}


PRICING: dict[str, Pricing] = {
    p.region: p
    for p in (
        Pricing(
            region="us-east-1",
            date="2026-11-26",
            http_request=1.00e-6,
            lambda_request=0.20e-6,
            gb_second=0.0000133334,
            rru=0.125e-6,
            wru=0.625e-6,
            gb_month=0.25,
            sns_publish=0.50e-6,
            sns_delivery=0.60e-6,
            log_gb=0.50,
        ),
        Pricing(
            region="eu-west-1",
            date="2026-12-02",
            http_request=1.11e-6,
            lambda_request=0.20e-6,
            gb_second=0.0000133334,
            rru=0.1413e-6,
            wru=0.7068e-6,
            gb_month=0.283,
            sns_publish=0.50e-6,
            sns_delivery=0.60e-6,
            log_gb=0.57,
        ),
        Pricing(
            region="eu-central-1",
            date="2026-12-02",
            http_request=1.20e-6,
            lambda_request=0.20e-6,
            gb_second=0.0000133334,
            rru=0.1525e-6,
            wru=0.7625e-6,
            gb_month=0.306,
            sns_publish=0.50e-6,
            sns_delivery=0.60e-6,
            log_gb=0.63,
        ),
    )
}


def pricing_for(region: str | None) -> Pricing:
    """The table of `region`, or us-east-1's when the region is unknown (or None)."""
    return PRICING.get(region or DEFAULT_REGION) or PRICING[DEFAULT_REGION]
