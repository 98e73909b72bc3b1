"""The cost readout's tests count their load with `bench/bench_cost.py`'s meter and pricing, and
`bench/` (like `infra/`) is not installed into the venv: put the repository root on the path."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture
def moto_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every AWS call inside the test goes to moto (fake credentials, us-east-1)."""
    from bench.bench_cost import quiet_moto_env

    quiet_moto_env()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    from moto import mock_aws

    with mock_aws():
        yield
