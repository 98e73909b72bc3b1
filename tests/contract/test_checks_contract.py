"""Synthetic checks on both stores (SQLite and moto DynamoDB): definitions, result documents that
concurrent recorders never lose counts on, and results that reach the samples through ingest."""

from __future__ import annotations

from typing import Any

import pytest

from vigil.config import Config
from vigil.domain.checks import CheckIn, RunResult
from vigil.domain.errors import Conflict, NotFound
from vigil.services import checks
from vigil.services.check_results import SYNTHETIC_HOST, record_results

NOW = 1_764_190_000.0


def test_checks_are_created_listed_replaced_and_deleted(store: Any) -> None:
    config = Config()
    made = checks.create(store, config, CheckIn(name="Shop", url="https://shop.example/", interval=30), NOW)
    checks.create(store, config, CheckIn(name="api", url="tcp://db.example:5432"), NOW)
    assert [c.name for c in checks.list_checks(store, NOW)] == ["api", "Shop"]
    assert checks.get(store, made.id, NOW).status == "pending"
    replaced = checks.replace(
        store, config, made.id, CheckIn(name="Store", url="https://shop.example/"), NOW + 1
    )
    assert replaced.version == made.version + 1 and replaced.created_at == made.created_at
    with pytest.raises(Conflict):
        checks.replace(store, config, made.id, CheckIn(name="api", url="https://shop.example/"), NOW + 2)
    checks.delete(store, made.id)
    with pytest.raises(NotFound):
        checks.get(store, made.id, NOW)
    assert [c.name for c in checks.list_checks(store, NOW)] == ["api"]


def result(check_id: str, at: float, up: bool) -> RunResult:
    return RunResult(
        check_id, at, up, {"dns": 0.001, "connect": 0.002, "total": 0.01}, None if up else "down"
    )


def test_results_update_status_uptime_and_samples(store: Any) -> None:
    config = Config()
    check = CheckIn(name="Shop", url="https://shop.example/")
    made = checks.create(store, config, check, NOW)
    runs = [(check, result(made.id, NOW + 60 * i, up)) for i, up in enumerate([True, True, False, True])]
    for run in runs:
        record_results(store, config, [run], run[1].at)
    listed = checks.get(store, made.id, NOW + 200)
    assert listed.status == "up" and listed.uptime_24h == 75.0 and listed.last_duration_ms == 10.0
    ups = sorted(
        store.query_points("synthetic.up", NOW - 1, NOW + 300, hosts=[SYNTHETIC_HOST], now=NOW + 300),
        key=lambda p: p.ts,
    )
    assert [(p.ts, p.value, dict(p.labels)) for p in ups] == [
        (NOW + 60 * i, v, {"check": "Shop"}) for i, v in enumerate([1.0, 1.0, 0.0, 1.0])
    ]
    failures = store.query_points("synthetic.failures", NOW - 1, NOW + 300, now=NOW + 300)
    assert [p.value for p in sorted(failures, key=lambda p: p.ts)] == [0.0, 0.0, 1.0, 0.0]


def test_a_recorder_that_loses_the_race_for_a_result_document_retries_on_the_new_one(store: Any) -> None:
    """The interleaving made deterministic: another recorder writes between this one's read and write
    (threads on moto cannot show it: moto's conditional writes are not atomic across threads)."""
    from vigil.domain.checks import record_run
    from vigil.services.check_results import _update_state

    config = Config()
    check = CheckIn(name="Shop", url="https://shop.example/")
    made = checks.create(store, config, check, NOW)
    record_results(store, config, [(check, result(made.id, NOW, True))], NOW)
    calls = 0

    def change(old: dict[str, Any] | None) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:  # the other recorder lands first
            record_results(store, config, [(check, result(made.id, NOW + 1, False))], NOW + 1)
        return record_run(old, result(made.id, NOW + 2, True))

    _update_state(store, made.id, change)
    state = store.get_doc(checks.STATE_KIND, made.id)
    assert calls == 2 and sum(total for _, total in state["hours"].values()) == 3


def test_a_hundred_checks_record_in_one_call(store: Any) -> None:
    config = Config()
    runs = []
    for i in range(100):
        check = CheckIn(name=f"check {i:03}", url=f"https://s{i}.example/")
        runs.append((check, result(checks.create(store, config, check, NOW).id, NOW, i % 10 != 0)))
    record_results(store, config, runs, NOW)  # its speed: bench/bench_checks.py
    listed = checks.list_checks(store, NOW)
    assert sum(c.status == "down" for c in listed) == 10 and sum(c.status == "up" for c in listed) == 90
