"""The jobs function's scheduled inputs (`vigil.api.scheduled`), through the metrics code's Lambda
handler on moto: the fleet target runs the fleet tier and the cost readout only, each rollup target
rolls up its shard's hosts, and together the shards do what one unsharded run does; a rollup run
near the end of its invocation stops and the next invocation continues where it stopped."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import FrozenClock
from vigil.adapters.store.dynamodb import DynamoStore, create_tables
from vigil.config import Config
from vigil.domain.errors import Invalid
from vigil.domain.models import Point
from vigil.domain.shards import Shard
from vigil.local.gateway import Gateway, LocalLambdaContext
from vigil.wiring import AppContext, bind

HOSTS = [f"web-{i}" for i in range(8)]


def scheduled(**detail: Any) -> dict[str, Any]:
    """What an EventBridge target with a constant input hands the function (`infra/alerting.py`)."""
    return {"source": "aws.events", "detail-type": "Scheduled Event", "detail": detail}


def _setup(name: str) -> tuple[Config, DynamoStore, float]:
    import boto3

    create_tables(boto3.client("dynamodb", region_name="us-east-1"), f"{name}-samples", f"{name}-meta")
    config = Config(store="dynamodb", samples_table=f"{name}-samples", meta_table=f"{name}-meta")
    store = DynamoStore(f"{name}-samples", f"{name}-meta", config.retention_seconds)
    hour = math.floor(time.time() / 3600) * 3600 - 3600.0
    for host in HOSTS:
        points = [Point(host, "cpu", (), hour + 60 * m, 1.0) for m in range(60)]
        store.put_samples(host, points, None, hour + 3600)
    return config, store, hour + 3600 + 180


def _run(
    config: Config, store: DynamoStore, now: float, event: dict[str, Any], context: Any = None
) -> dict[str, Any]:
    ctx = AppContext(config, clock=FrozenClock(now), _store=store)
    with bind(ctx):
        handler = Gateway(ctx).handler_for("metrics")
        result: dict[str, Any] = handler(event, context or LocalLambdaContext("metrics", timeout_seconds=240))
    return result


@dataclass
class AlmostOutOfTime(LocalLambdaContext):
    """An invocation that starts with its full 240 s, then finds only 50 s left (under the 60 s the
    jobs keep in reserve) whenever it asks again."""

    asked: int = 0

    def get_remaining_time_in_millis(self) -> int:
        self.asked += 1
        return 240_000 if self.asked == 1 else 50_000


def test_the_fleet_target_runs_the_fleet_tier_and_the_cost_readout_but_no_rollups(moto_env: None) -> None:
    config, store, now = _setup("fleet-target")
    result = _run(config, store, now, scheduled(jobs=["fleet", "cost"]))
    assert "fleet" in result and "hosts" not in result and "rollups" not in result
    assert store.get_doc("rollup_state", "watermark") is None


def test_each_rollup_target_rolls_up_its_shard_and_the_last_one_moves_the_watermark(moto_env: None) -> None:
    config, store, now = _setup("rollup-targets")
    done = []
    for i in range(3):
        result = _run(config, store, now, scheduled(jobs=["rollups"], shard=i, shards=3))
        assert "fleet" not in result
        done.append(result["hosts"])
        owned = [h for h in HOSTS if Shard(i, 3).owns(h)]
        assert result["hosts"] == len(owned)
    assert sum(done) == len(HOSTS)
    rolled = {r.host for r in store.query_rollups("cpu", "1h", now - 7200, now, now=now)}
    assert rolled == set(HOSTS)
    assert store.get_doc("rollup_state", "watermark")["hour"] == math.floor(now / 3600) * 3600
    again = _run(config, store, now + 300, scheduled(jobs=["rollups"], shard=1, shards=3))
    assert again == {"rollups": "already ran this hour"}


def test_the_default_scheduled_event_still_runs_every_job_over_every_host(moto_env: None) -> None:
    config, store, now = _setup("default-event")
    result = _run(config, store, now, scheduled())
    assert "fleet" in result and result["hosts"] == len(HOSTS)


@pytest.mark.parametrize(
    "detail", [{"jobs": ["backup"]}, {"jobs": []}, {"jobs": "rollups"}, {"shard": 2, "shards": 2}]
)
def test_a_scheduled_input_naming_no_known_job_or_shard_is_refused(
    moto_env: None, detail: dict[str, Any]
) -> None:
    config, store, now = _setup(f"bad-{abs(hash(str(detail))) % 10_000}")
    with pytest.raises(Invalid):
        _run(config, store, now, scheduled(**detail))


def test_a_rollup_run_out_of_time_stops_after_a_host_and_the_next_invocation_continues(
    moto_env: None,
) -> None:
    config, store, now = _setup("resumed-rollups")
    handled = []
    for n in range(len(HOSTS)):
        assert "hour" not in (store.get_doc("rollup_state", "watermark") or {})  # nothing settled yet
        result = _run(config, store, now + 60 * n, scheduled(jobs=["rollups"]), AlmostOutOfTime("metrics"))
        handled.append(result["hosts"])
        assert ("resume_after" in result) == (n < len(HOSTS) - 1)
    assert handled == [1] * len(HOSTS)
    assert store.get_doc("rollup_state", "watermark")["hour"] == math.floor(now / 3600) * 3600
    rolled = {r.host for r in store.query_rollups("cpu", "1h", now - 7200, now, now=now)}
    assert rolled == set(HOSTS)
