"""`vigil rules apply` as a user runs it (a subprocess): against the local store and against a running
server over HTTP; idempotent (the second apply changes nothing), `--dry-run` writes nothing,
`--prune` deletes what the file no longer names, an invalid file names the rule and field."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from vigil.alerting.repo import load_rules
from vigil.config import Config
from vigil.local.server import LocalServer
from vigil.wiring import AppContext

RULES = """
rules:
  - name: Disk almost full
    metric: system.filesystem.utilization
    agg: max
    window: 10m
    op: ">"
    threshold: 0.9
    severity: critical
  - name: Slow checkout
    metric: http.server.request.duration
    filter: {labels: {route: /checkout}}
    agg: p95
    window: 5m
    threshold: 1.5
    for: 2m
"""


def vigil(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    return subprocess.run(
        [sys.executable, "-m", "vigil.cli", "rules", "apply", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=60,
        check=False,
    )


def rule_names(data_dir: Path) -> list[str]:
    ctx = AppContext(Config(data_dir=data_dir))
    try:
        return sorted(r.name for r in load_rules(ctx.store))
    finally:
        ctx.store.close()


def test_apply_to_the_local_store_is_idempotent_and_prunes_only_when_asked(tmp_path: Path) -> None:
    data = tmp_path / "data"
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    first = vigil("-f", str(rules), "--data-dir", str(data))
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "create     Disk almost full",
        "create     Slow checkout",
        "2 to create, 0 to update, 0 to delete, 0 unchanged",
    ]
    second = vigil("-f", str(rules), "--data-dir", str(data))
    assert second.stdout.splitlines()[-1] == "0 to create, 0 to update, 0 to delete, 2 unchanged"

    rules.write_text(RULES.split("  - name: Slow checkout")[0].replace("0.9", "0.95"))
    planned = vigil("-f", str(rules), "--data-dir", str(data), "--prune", "--dry-run")
    assert planned.stdout.splitlines() == [
        "update     Disk almost full",
        "delete     Slow checkout",
        "0 to create, 1 to update, 1 to delete, 0 unchanged (dry run: nothing written)",
    ]
    assert rule_names(data) == ["Disk almost full", "Slow checkout"]
    kept = vigil("-f", "-", "--data-dir", str(data), stdin=rules.read_text())  # no --prune: keeps it
    assert kept.stdout.splitlines()[-1] == "0 to create, 1 to update, 0 to delete, 0 unchanged"
    assert rule_names(data) == ["Disk almost full", "Slow checkout"]
    pruned = vigil("-f", str(rules), "--data-dir", str(data), "--prune")
    assert pruned.stdout.splitlines()[-1] == "0 to create, 0 to update, 1 to delete, 1 unchanged"
    assert rule_names(data) == ["Disk almost full"]


def test_an_invalid_rules_file_names_the_rule_and_field_and_changes_nothing(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.replace("window: 5m", "window: soon"))
    result = vigil("-f", str(rules), "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 2 and "rules[1].window" in result.stderr
    assert rule_names(tmp_path / "data") == []


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(Config(data_dir=tmp_path / "served"), port=0, agent=False) as running:
        yield running


def test_apply_over_http_to_a_running_server_is_idempotent(tmp_path: Path, server: LocalServer) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    remote = ("-f", str(rules), "--url", server.url, "--token", server.admin_token)
    first = vigil(*remote)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[-1] == "2 to create, 0 to update, 0 to delete, 0 unchanged"
    names = sorted(r.name for r in load_rules(server.ctx.store))
    assert {"Disk almost full", "Slow checkout"} <= set(names)
    again = vigil(*remote)
    assert again.stdout.splitlines()[-1] == "0 to create, 0 to update, 0 to delete, 2 unchanged"

    denied = vigil("-f", str(rules), "--url", server.url, "--token", "va_wrong")
    assert denied.returncode == 1 and "HTTP 401" in denied.stderr
