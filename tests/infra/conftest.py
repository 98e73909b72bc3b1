"""One synthesized Vigil stack per test session (the first synth in a process costs 10-15 s).

The layer is built (or refreshed: pip only runs when the dependency list changed) once per session,
then the app is synthesized with cdk-nag attached exactly as `app.py` does, into a session folder so
tests can read the template, the assets and cdk-nag's validation report.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `infra` is the CDK app's package, not installed into the venv
    sys.path.insert(0, str(ROOT))

from aws_cdk.assertions import Template  # noqa: E402

from infra import build_layer  # noqa: E402
from infra.stack import VigilStack, build_app  # noqa: E402

TEST_CONTEXT: dict[str, object] = {
    "stage": "dev",
    "alertEmails": "oncall@example.com,lead@example.com",
    "alertPhoneNumbers": "+15555550100",
    "channelSecretNames": "slackOps,discordTeam",
    "allowedOrigins": "http://localhost:5173",
}


@dataclass
class Synth:
    stack: VigilStack
    template: Template
    raw: dict[str, Any]
    outdir: Path

    def logical_id(self, construct: Any) -> str:
        return self.stack.get_logical_id(construct.node.default_child)

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.raw["Resources"].items() if v["Type"] == type_}

    def validation_report(self) -> dict[str, Any]:
        return json.loads((self.outdir / "validation-report.json").read_text())


@pytest.fixture(scope="session")
def layer_dir() -> Path:
    return build_layer.build()


@pytest.fixture(scope="session")
def synth(layer_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Synth:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stack = build_app(TEST_CONTEXT, outdir=str(outdir))
    assembly = app.synth()  # raises ValidationFailed on any unacknowledged cdk-nag error
    artifact = assembly.get_stack_artifact(stack.artifact_id)
    raw = json.loads((outdir / artifact.template_file).read_text())
    return Synth(stack=stack, template=Template.from_json(raw), raw=raw, outdir=outdir)
