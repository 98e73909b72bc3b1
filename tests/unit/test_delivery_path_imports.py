"""The scheduled evaluation and the notify function's delivery path build none of the API's pydantic
request models (cold starts, issue 14): the notify handler loads no pydantic at all, reading stored
channels with `stored_channel`, which accepts what the API's `Channel` stored and nothing else; the
evaluation's entry loads no notifier."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from vigil.domain.channels import Channel, StoredChannel, stored_channel

# The API's request models, wherever they are defined (they were built on import of these modules).
API_MODELS = {
    "vigil.domain.channels": ["Channel", "ChannelCreate"],
    "vigil.domain.channel_models": ["Channel", "ChannelCreate"],
    "vigil.domain.push": ["PushKeys", "PushSubscriptionIn"],
    "vigil.domain.push_models": ["PushKeys", "PushSubscriptionIn"],
}
CODE = """import json, sys, {module}
models = {models!r}
print(json.dumps({{
    "modules": sorted(m for m in sys.modules if m.split(".")[0] in ("pydantic", "vigil")),
    "models": sorted(f"{{m}}.{{n}}" for m, names in models.items() for n in names
                     if m in sys.modules and n in vars(sys.modules[m])),
}}))
"""


def _import(module: str) -> dict[str, list[str]]:
    """What importing `module` in a fresh interpreter loads: modules, and API models built."""
    code = CODE.format(module=module, models=API_MODELS)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded: dict[str, list[str]] = json.loads(done.stdout)
    return loaded


def test_the_notify_entry_loads_no_pydantic_nor_the_rule_models() -> None:
    loaded = _import("vigil.alerting.notify_entry")
    unwanted = {"pydantic", "vigil.domain.models", "vigil.domain.rules", "vigil.alerting.service"}
    assert "vigil.alerting.delivery" in loaded["modules"]
    assert sorted(unwanted & set(loaded["modules"])) == []
    assert loaded["models"] == []


def test_the_scheduled_evaluation_s_entry_loads_no_pydantic_and_no_notifier() -> None:
    loaded = _import("vigil.alerting.entry")
    assert "vigil.domain.rule_records" in loaded["modules"]  # the evaluator reads plain records
    unwanted = {"pydantic", "vigil.domain.models", "vigil.domain.rules", "vigil.domain.silences"}
    assert sorted(unwanted & set(loaded["modules"])) == []
    assert loaded["models"] == []
    # in AWS it publishes to SNS; the notifiers (and local mode's dispatcher) are the notify function's
    notifiers = {"vigil.alerting.delivery", "vigil.alerting.local_delivery", "vigil.adapters.notify.registry"}
    assert sorted(notifiers & set(loaded["modules"])) == []


def test_a_stored_channel_reads_back_what_the_api_s_model_wrote() -> None:
    written = Channel(type="webhook", name="hook", target="https://example.com/h", secret="s" * 16)
    assert stored_channel(written.model_dump()) == StoredChannel(**written.model_dump())


@pytest.mark.parametrize(
    "doc",
    [
        {"id": "c-1", "type": "pager", "name": "x"},  # an unknown type
        {"id": "c-1", "name": "x"},  # no type
        {"id": "c-1", "type": "webhook", "name": "x", "target": 42},
        {"id": "c-1", "type": "webhook", "name": "x", "enabled": "yes"},
    ],
)
def test_a_stored_channel_refuses_a_document_that_is_not_a_channel(doc: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="not a channel document"):
        stored_channel(doc)
