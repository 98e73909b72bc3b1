"""Context settings (defaults, validation) and the deploy guide agreeing with the template."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from infra import settings as settings_module
from infra.settings import Settings
from infra.stack import OUTPUTS

if TYPE_CHECKING:
    from tests.infra.conftest import Synth

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def test_defaults_match_the_seed_settings() -> None:
    s = Settings.from_context({}.get)
    assert (s.stage, s.table_prefix, s.monitoring_interval_seconds, s.retention_days) == (
        "dev",
        "vigil-dev",
        10,
        7,
    )
    t = s.thresholds
    assert (t.cpu_percent, t.memory_percent, t.api_p95_ms, t.error_rate_percent, t.db_query_ms) == (
        80,
        90,
        2000,
        5,
        1000,
    )
    assert not s.keeps_data


def test_prod_always_keeps_data_and_milliseconds_interval_is_understood() -> None:
    s = Settings.from_context({"stage": "prod", "monitoringInterval": "10000"}.get)
    assert s.keeps_data and s.is_prod and s.monitoring_interval_seconds == 10
    assert Settings.from_context({"retainData": "true"}.get).keeps_data


def test_comma_lists_and_json_lists_both_work() -> None:
    a = Settings.from_context({"alertEmails": "a@x.io, b@x.io", "alertPhoneNumbers": ["+15555550100"]}.get)
    assert a.alert_emails == ("a@x.io", "b@x.io") and a.alert_phone_numbers == ("+15555550100",)
    assert a.ops_emails == a.alert_emails


@pytest.mark.parametrize(
    "context",
    [
        {"stage": "staging"},
        {"alertPhoneNumbers": "555-0100"},
        {"allowedOrigins": "http://evil.example"},
        {"domainName": "vigil.example.com"},
        {"retentionDays": "0"},
        {"cpuThreshold": "high"},
    ],
)
def test_invalid_context_is_rejected_with_a_message(context: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"context|alertPhoneNumbers|allowedOrigins"):
        Settings.from_context(context.get)


def test_every_context_key_is_documented_in_the_deploy_guide() -> None:
    keys = re.findall(r"^  (\w+)\s", settings_module.__doc__ or "", flags=re.M)
    keys += ["cpuThreshold", "memoryThreshold", "apiThreshold", "errorRateThreshold", "dbQueryThreshold"]
    guide = GUIDE.read_text()
    missing = [k for k in keys if f"`{k}`" not in guide]
    assert len(keys) > 15 and not missing


def test_stack_outputs_are_the_ones_the_guide_names(synth: Synth) -> None:
    assert set(synth.raw["Outputs"]) == set(OUTPUTS)
    guide = GUIDE.read_text()
    named = set(re.findall(r"OutputKey=='(\w+)'", guide)) | set(re.findall(r"`(\w+)` output", guide))
    assert named and named <= set(OUTPUTS)
    assert all(f"`{name}`" in guide for name in OUTPUTS)
