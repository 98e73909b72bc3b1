"""The cost readout's arithmetic (vigil.domain.cost) and the one pricing table (vigil.domain.pricing)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.domain.cost import Usage, components, readout, total_usd
from vigil.domain.pricing import PRICING, pricing_for

amounts = st.floats(min_value=0, max_value=1e9, allow_nan=False)
usages = st.builds(
    Usage,
    seconds=st.floats(min_value=1, max_value=31 * 86400),
    api_requests=amounts,
    lambda_requests=amounts,
    lambda_gb_seconds=amounts,
    rru=amounts,
    wru=amounts,
    storage_gb_hours=amounts,
    sns_publishes=amounts,
    sns_deliveries=amounts,
    log_bytes=amounts,
)


@given(usages, st.sampled_from(sorted(PRICING)))
def test_the_total_is_the_sum_of_the_components(usage: Usage, region: str) -> None:
    pricing = pricing_for(region)
    parts = components(usage, pricing)
    assert total_usd(usage, pricing) == pytest.approx(sum(p["usd"] for p in parts), rel=1e-5, abs=1e-9)
    assert all(p["usd"] >= 0 for p in parts)


@given(usages, usages)
def test_usage_adds_field_by_field_in_any_order(a: Usage, b: Usage) -> None:
    assert (a + b).to_doc() == pytest.approx((b + a).to_doc())
    assert Usage.from_doc({**(a + b).to_doc(), "hour": 1.0, "_version": 3}) == a + b


@given(usages, st.integers(min_value=1, max_value=10_000))
def test_per_host_month_scales_the_covered_time_to_720_hours_and_divides_by_hosts(
    usage: Usage, hosts: int
) -> None:
    body = readout("24h", usage, hosts, pricing_for("us-east-1"))
    expected = total_usd(usage, pricing_for("us-east-1")) * 720 * 3600 / usage.seconds / hosts
    assert body["per_host_month_usd"] == pytest.approx(expected, rel=1e-5, abs=1e-9)


def test_no_hosts_and_no_time_give_no_per_host_figure() -> None:
    body = readout("30d", Usage(), 0, pricing_for(None))
    assert body["per_host_month_usd"] is None and body["total_usd"] == 0 and body["hours"] == 0


def test_storage_is_priced_per_gb_month_and_logs_per_gb() -> None:
    parts = {
        p["name"]: p
        for p in components(Usage(storage_gb_hours=720.0, log_bytes=2e9), pricing_for("us-east-1"))
    }
    assert parts["DynamoDB storage"] == {
        "name": "DynamoDB storage",
        "usd": 0.25,
        "units": 1.0,
        "unit": "GB-month",
    }
    assert parts["CloudWatch Logs ingestion"]["usd"] == 1.0


def test_an_unknown_region_falls_back_to_us_east_1_and_every_table_is_dated() -> None:
    assert pricing_for("ap-nowhere-9").region == "us-east-1"
    for region, table in PRICING.items():
        assert table.region == region and len(table.date) == 10
        assert set(table.as_dict()) >= {
            "wru",
            "rru",
            "gb_month",
            "http_request",
            "lambda_request",
            "gb_second",
        }
