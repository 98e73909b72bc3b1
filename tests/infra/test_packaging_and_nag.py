"""The offline-built layer, cdk-nag's verdict, and a normalised snapshot of the whole template."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from infra.acknowledge import ACKNOWLEDGED
from infra.build_layer import PYTHON_VERSION, runtime_dependencies
from infra.packaging import RUNTIME

if TYPE_CHECKING:
    from tests.infra.conftest import Synth

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

SNAPSHOT = Path(__file__).parent / "snapshots" / "vigil-dev.template.json"
UPDATE_ENV = "VIGIL_UPDATE_SNAPSHOTS"


def test_layer_targets_the_lambda_runtime_python_version() -> None:
    assert RUNTIME.name == f"python{PYTHON_VERSION}"


def test_layer_holds_aarch64_binaries_for_the_chosen_runtime(layer_dir: Path) -> None:
    tag = f"cpython-{PYTHON_VERSION.replace('.', '')}-aarch64-linux-gnu"
    (core,) = (layer_dir / "python" / "pydantic_core").glob("_pydantic_core*.so")
    assert tag in core.name
    compiled = list((layer_dir / "python").rglob("*.so"))
    assert compiled and all("x86_64" not in so.name for so in compiled)


def test_layer_ships_vigil_and_runtime_dependencies_but_no_dev_tools(layer_dir: Path) -> None:
    site = layer_dir / "python"
    assert (site / "vigil" / "config.py").read_text() == (Path("vigil") / "config.py").read_text()
    assert {p.name.split(".")[-2] for p in site.rglob("*.pyc")} == {
        f"cpython-{PYTHON_VERSION.replace('.', '')}"
    }
    for dep in runtime_dependencies():
        name = re.split(r"[=<>!~\[]", dep)[0].lower().replace("-", "_")
        assert list(site.glob(f"{name}-*.dist-info")), dep
    for dev_only in ("pytest", "moto", "aws_cdk", "waitress", "hypothesis"):
        assert not (site / dev_only).exists()


def test_cdk_nag_finds_no_unacknowledged_violation(synth: Synth) -> None:
    (report,) = synth.validation_report()["pluginReports"]
    assert report["pluginName"] == "AwsSolutions"
    assert report["conclusion"] == "success"
    assert report["violations"] == []


def test_every_acknowledged_finding_carries_a_written_reason(synth: Synth) -> None:
    (report,) = synth.validation_report()["pluginReports"]
    suppressed = report["suppressedViolations"]
    assert suppressed
    assert all(len(s["reason"].split()) >= 6 for s in suppressed)
    recorded = {a.rule.split("::")[-1] for a in ACKNOWLEDGED}
    assert {s["acknowledgedId"].split("::")[-1] for s in suppressed} <= recorded


def test_resource_wildcards_are_acknowledged_only_for_unsubscribe_and_metric_reads(synth: Synth) -> None:
    # cdk-nag 3 leaves per-finding acknowledgments (`Rule[finding]`) out of suppressedViolations, so
    # read them from the one helper every acknowledgment goes through. alerts: sns:Unsubscribe of
    # channel subscriptions; jobs: cloudwatch:GetMetricData for the cost readout (neither has an
    # IAM resource type).
    wildcard = [
        a.path for a in ACKNOWLEDGED if a.rule == "AwsSolutions-IAM5[Resource::*]" and "/Functions/" in a.path
    ]
    assert sorted(set(wildcard)) == ["Vigil-dev/Functions/Alerts/Role", "Vigil-dev/Functions/Jobs/Role"]


def _normalised(template: dict[str, Any]) -> dict[str, Any]:
    """Asset hashes change with every code edit; mask them so the snapshot tracks infrastructure."""
    text = json.dumps(template, indent=1, sort_keys=True)
    text = re.sub(r"[0-9a-f]{64}", "<asset-hash>", text)
    return json.loads(text)


def test_template_matches_the_snapshot(synth: Synth) -> None:
    actual = _normalised(synth.raw)
    if os.environ.get(UPDATE_ENV) == "1" or not SNAPSHOT.exists():
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    changed = sorted(
        k for k in set(actual["Resources"]) | set(expected["Resources"])
        if actual["Resources"].get(k) != expected["Resources"].get(k)
    )  # fmt: skip
    assert actual == expected, f"template changed ({changed}); if intended, rerun with {UPDATE_ENV}=1"
