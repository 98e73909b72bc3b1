"""The settings "host not reporting" and notification links read from the environment."""

from __future__ import annotations

from vigil.config import DEFAULT_PUBLIC_URL, Config


def test_evaluation_period_defaults_to_the_monitoring_interval_and_can_be_set() -> None:
    assert Config.from_env({"MONITORING_INTERVAL": "15"}).evaluation_period_seconds == 15.0
    assert Config.from_env({"VIGIL_EVALUATION_PERIOD": "60"}).evaluation_period_seconds == 60.0


def test_missed_intervals_default_to_three_and_can_be_set() -> None:
    assert Config.from_env({}).thresholds.host_missed_intervals == 3
    assert Config.from_env({"ALERT_HOST_MISSED_INTERVALS": "5"}).thresholds.host_missed_intervals == 5


def test_an_unset_public_url_is_none_so_the_server_can_fill_in_its_own_address() -> None:
    unset = Config.from_env({})
    assert unset.public_url is None and unset.links_url == DEFAULT_PUBLIC_URL
    given = Config.from_env({"VIGIL_PUBLIC_URL": "https://vigil.example"})
    assert given.links_url == "https://vigil.example"
