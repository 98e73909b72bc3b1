"""`vigil agent` argument handling (no network)."""

from __future__ import annotations

import socket

import pytest

from vigil.agent import command
from vigil.config import agent_key_from_env
from vigil.domain.models import HOST_RE


def test_a_missing_key_is_a_usage_error_naming_both_ways_to_give_it(monkeypatch, capsys):
    monkeypatch.delenv("VIGIL_INGEST_KEY", raising=False)
    with pytest.raises(SystemExit) as exc:
        command.main(["--url", "http://127.0.0.1:1"])
    assert exc.value.code == 2
    assert "--key KEY or the VIGIL_INGEST_KEY" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["--interval", "0"],
        ["--flush", "-1"],
        ["--interval", "x"],
        ["--host", "no spaces"],
        ["--url", "ftp://x"],
        ["--buffer", "0"],
    ],
)
def test_bad_options_are_usage_errors(args):
    with pytest.raises(SystemExit) as exc:
        command.main(["--url", "http://127.0.0.1:1", "--key", "k", *args])
    assert exc.value.code == 2


def test_the_key_can_come_from_the_environment():
    assert agent_key_from_env({"VIGIL_INGEST_KEY": "vk_1"}) == "vk_1"
    assert agent_key_from_env({"VIGIL_INGEST_KEY": ""}) is None
    assert agent_key_from_env({}) is None


def test_the_default_host_name_is_made_valid_for_vigil(monkeypatch):
    monkeypatch.setattr(socket, "gethostname", lambda: "My Laptop (work)")
    assert command.default_host_name() == "My-Laptop--work-"
    assert HOST_RE.match(command.default_host_name())
    monkeypatch.setattr(socket, "gethostname", lambda: "")
    assert command.default_host_name() == "localhost"


def test_the_defaults_match_the_documented_ones():
    args = command.build_parser().parse_args(["--url", "http://x"])
    assert (args.interval, args.flush, args.buffer, args.batch, args.otlp, args.once) == (
        10.0,
        60.0,
        10_000,
        1000,
        False,
        False,
    )
