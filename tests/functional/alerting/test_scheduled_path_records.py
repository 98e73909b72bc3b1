"""The alerts function's minute tick reads rules and silences as plain records (`rule_records`,
`silence_records`), so in a fresh interpreter it evaluates, fires, mutes and publishes without ever
loading pydantic (the cold start budget of issue 14: pydantic and its models were ~40 % of it). The
rule and silence are written through the pydantic models, as the API writes them; the tick runs in a
new process on the same SQLite file, the way a Lambda cold start meets a table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from vigil.alerting.kinds import SILENCE_KIND
from vigil.alerting.repo import ensure_default_rules, save_rule
from vigil.domain.records import Point
from vigil.domain.rules import parse_rule
from vigil.domain.silences import Silence
from vigil.wiring import AppContext

ROOT = Path(__file__).resolve().parents[3]
TICK = """
import json, sys
from vigil.alerting.entry import scheduled_evaluation
from vigil.alerting.repo import load_states
from vigil.wiring import app_context
report = scheduled_evaluation({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}})
states = {rule_id: loaded[0].groups for rule_id, loaded in load_states(app_context().store).items()}
print(json.dumps({
    "report": report,
    "status": {r: {k: g.status for k, g in groups.items()} for r, groups in states.items()},
    "loaded": sorted(m for m in sys.modules if m.split(".")[0] in ("pydantic", "jinja2", "yaml")
                     or m in ("vigil.domain.models", "vigil.domain.rules", "vigil.domain.silences")),
}))
"""


def test_the_minute_tick_fires_and_mutes_from_records_without_loading_pydantic(ctx: AppContext) -> None:
    now = time.time()
    ensure_default_rules(ctx.store, ctx.config)  # the first start's seeding, long before this tick
    hot = {"metric": "cpu.ratio", "agg": "max", "window": "5m", "threshold": 0.9}
    for rule in (
        {**hot, "id": "hot", "name": "Hot CPU"},
        {**hot, "id": "muted", "name": "Hot CPU, muted", "severity": "critical"},
    ):
        save_rule(ctx.store, parse_rule(rule))
    silence = Silence.model_validate(
        {"matchers": [{"name": "rule_id", "value": "muted"}], "starts_at": now - 60, "ends_at": now + 3600}
    )
    ctx.store.put_doc(SILENCE_KIND, silence.id, silence.model_dump())
    ctx.store.put_samples("web-1", [Point("web-1", "cpu.ratio", (), now - 30, 0.97)], "b1", now)
    ctx.store.close()

    env = {**os.environ, "VIGIL_DATA_DIR": str(ctx.config.data_dir), "VIGIL_STORE": "sqlite"}
    done = subprocess.run(
        [sys.executable, "-c", TICK],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])

    assert out["status"]["hot"] == {"host=web-1": "firing"}
    assert out["status"]["muted"] == {"host=web-1": "firing"}  # a silence mutes notices, not state
    inbox_or_topic = out["report"]["published"]
    assert inbox_or_topic == 1, out["report"]  # only the unmuted rule's notice
    assert out["loaded"] == [], out["loaded"]
