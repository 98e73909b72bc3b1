"""The scale harness's duration model (`bench/scale_model.py`) must credit concurrency honestly: requests
in flight overlap only their waiting, never CPU (ours or botocore's), and with one request at a time at a
full vCPU it is the sequential model the earlier figures used (CPU + 6 ms a request)."""

from __future__ import annotations

import pytest

from bench.scale_model import (
    CLIENT_CPU_MS,
    REQUEST_MS,
    TIMEOUT_S,
    lambda_seconds,
    wall_vs_timeout,
)
from infra.sizing import EVALUATOR_TIMEOUT_SECONDS, JOBS_TIMEOUT_SECONDS


def test_one_request_at_a_time_at_a_full_vcpu_is_cpu_plus_a_round_trip_each() -> None:
    assert lambda_seconds(2.0, 1000, "jobs") == pytest.approx(2.0 + 1000 * REQUEST_MS / 1000)


def test_requests_in_flight_overlap_only_their_waiting() -> None:
    sequential = lambda_seconds(2.0, 1000, "jobs", pool=1)
    concurrent = lambda_seconds(2.0, 1000, "jobs", pool=16)
    waiting = 1000 * (REQUEST_MS - CLIENT_CPU_MS) / 1000
    assert sequential - concurrent == pytest.approx(waiting * (1 - 1 / 16))
    # however many are in flight, the CPU (ours and botocore's) is still paid in full
    assert lambda_seconds(2.0, 1000, "jobs", pool=10**9) == pytest.approx(2.0 + 1000 * CLIENT_CPU_MS / 1000)


def test_cpu_slows_with_a_smaller_share_of_a_vcpu_but_waiting_does_not() -> None:
    assert lambda_seconds(1.0, 0, "metrics") == pytest.approx(1769 / 1024)
    assert lambda_seconds(1.0, 0, "jobs") == pytest.approx(1.0)
    waiting_only = lambda_seconds(0.0, 100, "metrics") - 100 * CLIENT_CPU_MS / 1000 * 1769 / 1024
    assert waiting_only == pytest.approx(100 * (REQUEST_MS - CLIENT_CPU_MS) / 1000)


def test_each_run_is_set_against_the_timeout_of_the_function_it_runs_in() -> None:
    assert TIMEOUT_S == {"alerts": EVALUATOR_TIMEOUT_SECONDS, "jobs": JOBS_TIMEOUT_SECONDS}
    assert wall_vs_timeout(25.0, "evaluator_tick") == pytest.approx(0.5)
    assert wall_vs_timeout(120.0, "rollup_run") == pytest.approx(0.5)
    assert wall_vs_timeout(120.0, "fleet_run") == pytest.approx(0.5)
