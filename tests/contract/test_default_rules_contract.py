"""Default rules and their inbox channel on both stores (SQLite and moto DynamoDB): a first start
seeds them together, and an install seeded by an older Vigil is migrated once."""

from __future__ import annotations

from typing import Any

from vigil.alerting.repo import (
    CHANNEL_KIND,
    INBOX_CHANNEL_ID,
    META_KIND,
    RULE_KIND,
    attach_to_default_rules,
    ensure_default_rules,
    load_rules,
    save_rule,
)
from vigil.config import Config
from vigil.domain.rules import default_rules


def test_a_first_start_seeds_the_inbox_channel_and_rules_that_notify_it(store: Any) -> None:
    created = ensure_default_rules(store, Config())
    assert len(created) == 9
    assert store.get_doc(CHANNEL_KIND, INBOX_CHANNEL_ID)["type"] == "inbox"
    assert all(r.channels == [INBOX_CHANNEL_ID] for r in load_rules(store))
    host_down = next(r for r in load_rules(store) if r.id == "default-host-down")
    assert host_down.missed_intervals == 3


def test_an_install_seeded_before_is_migrated_once_keeping_the_users_choices(store: Any) -> None:
    config = Config()
    for rule in default_rules(config.thresholds, config.interval_seconds):  # what an older Vigil seeded
        if rule.id == "default-host-down":
            rule = rule.model_copy(update={"missed_intervals": None})
        if rule.id == "default-cpu":
            rule = rule.model_copy(update={"channels": ["c-mine"]})
        if rule.id != "default-memory":  # the user deleted this one
            save_rule(store, rule)
    store.put_doc(META_KIND, "defaults", {"seeded": True})

    assert ensure_default_rules(store, config) == []
    rules = {r.id: r for r in load_rules(store)}
    assert "default-memory" not in rules
    assert rules["default-cpu"].channels == ["c-mine", INBOX_CHANNEL_ID]
    assert rules["default-host-down"].missed_intervals == 3
    assert store.get_doc(CHANNEL_KIND, INBOX_CHANNEL_ID) is not None

    store.delete_doc(CHANNEL_KIND, INBOX_CHANNEL_ID)  # the user removes the inbox: it stays removed
    ensure_default_rules(store, config)
    assert store.get_doc(CHANNEL_KIND, INBOX_CHANNEL_ID) is None


def test_an_install_seeded_before_synthetic_checks_gains_their_two_rules_once(store: Any) -> None:
    config = Config()
    for rule in default_rules(config.thresholds, config.interval_seconds, [INBOX_CHANNEL_ID]):
        if not rule.id.startswith("default-check-"):  # what Vigil seeded before checks existed
            save_rule(store, rule)
    store.put_doc(CHANNEL_KIND, INBOX_CHANNEL_ID, {"id": INBOX_CHANNEL_ID, "type": "inbox", "name": "Inbox"})
    store.put_doc(META_KIND, "defaults", {"seeded": True, "version": 2})

    created = ensure_default_rules(store, config)
    assert sorted(r.id for r in created) == ["default-check-down", "default-check-tls"]
    assert all(r.channels == [INBOX_CHANNEL_ID] and r.group_by == ["check"] for r in created)
    store.delete_doc(RULE_KIND, "default-check-tls")  # the user does not want it: it stays deleted
    assert ensure_default_rules(store, config) == []
    assert store.get_doc(RULE_KIND, "default-check-tls") is None


def test_an_install_seeded_before_forecasts_gains_the_filesystem_forecast_rule_once(store: Any) -> None:
    config = Config()
    for rule in default_rules(config.thresholds, config.interval_seconds, [INBOX_CHANNEL_ID]):
        if rule.id != "default-disk-forecast":  # what Vigil seeded before forecasts existed
            save_rule(store, rule)
    store.put_doc(CHANNEL_KIND, INBOX_CHANNEL_ID, {"id": INBOX_CHANNEL_ID, "type": "inbox", "name": "Inbox"})
    store.put_doc(META_KIND, "defaults", {"seeded": True, "version": 3})

    created = ensure_default_rules(store, config)
    assert [(r.id, r.forecast, r.window, r.threshold) for r in created] == [
        ("default-disk-forecast", 7 * 86400.0, 12 * 3600.0, 1.0)
    ]
    store.delete_doc(RULE_KIND, "default-disk-forecast")
    assert ensure_default_rules(store, config) == []
    assert store.get_doc(RULE_KIND, "default-disk-forecast") is None


def test_attaching_a_channel_adds_it_once_to_the_default_rules_only(store: Any) -> None:
    config = Config()
    ensure_default_rules(store, config)
    own = default_rules(config.thresholds, 10.0)[0].model_copy(update={"id": "r-own"})
    save_rule(store, own)
    assert len(attach_to_default_rules(store, config, "c-ops")) == 9
    assert attach_to_default_rules(store, config, "c-ops") == []
    assert store.get_doc(RULE_KIND, "r-own")["channels"] == []


class Recorder:
    """A publisher that keeps what the evaluator published."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def publish(self, message: dict[str, Any], attributes: Any) -> None:
        self.messages.append(message)


def test_the_shipped_host_down_rule_follows_a_60s_agent_under_a_60s_evaluator(store: Any) -> None:
    from vigil.alerting.service import run_evaluation
    from vigil.domain.models import Point

    config = Config(evaluation_period_seconds=60.0)
    ensure_default_rules(store, config)
    recorder, t0 = Recorder(), 1_764_190_000.0
    for minute in range(30):  # an agent pushing every 60 s, received 20 s before each tick
        at = t0 + 60 * minute
        store.put_samples("web-1", [Point("web-1", "system.cpu.utilization", (), at - 5, 0.2)], None, at - 20)
        run_evaluation(store, recorder, None, at, evaluation_period=60.0)
    assert recorder.messages == []  # healthy: no page, however the phases fall
    last_push = t0 + 60 * 29 - 20
    fired_at = None
    for minute in range(30, 40):  # the agent stopped
        run_evaluation(store, recorder, None, t0 + 60 * minute, evaluation_period=60.0)
        if recorder.messages and fired_at is None:
            fired_at = t0 + 60 * minute
    (page,) = recorder.messages
    assert (page["rule_id"], page["group"], page["channels"]) == (
        "default-host-down",
        {"host": "web-1"},
        [INBOX_CHANNEL_ID],
    )
    assert fired_at is not None and fired_at - last_push <= (3 + 1) * 60 + 60
