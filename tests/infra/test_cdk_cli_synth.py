"""`npx cdk synth -q` works offline: no network (a dead proxy) and no AWS credentials (~20 s)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "node_modules" / ".bin" / "cdk"


def test_cdk_cli_synthesizes_without_network_or_credentials(layer_dir: Path, tmp_path: Path) -> None:
    assert CLI.exists(), "run `npm ci` at the repository root (pins aws-cdk@2.1148.x)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HTTPS_PROXY="http://127.0.0.1:9",  # discard port: any network attempt fails fast
        HTTP_PROXY="http://127.0.0.1:9",
        NO_PROXY="",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        CDK_DISABLE_VERSION_CHECK="1",
        CDK_DISABLE_CLI_TELEMETRY="true",
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
    )
    out = tmp_path / "cdk.out"
    result = subprocess.run(
        [str(CLI), "synth", "-q", "--no-notices", "-o", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (out / "Vigil-dev.template.json").is_file()
