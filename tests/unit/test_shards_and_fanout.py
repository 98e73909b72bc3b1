"""Shard assignment of the sharded scheduled jobs (`vigil.domain.shards`) and the bounded, ordered
fan-out of the DynamoDB store's per-host reads (`vigil.adapters.store.fanout`)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.adapters.store.fanout import ordered_map
from vigil.domain.errors import Invalid
from vigil.domain.shards import MAX_SHARDS, Shard, shard_of

hosts = st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=200, unique=True)


@given(hosts, st.integers(min_value=1, max_value=MAX_SHARDS))
def test_every_host_belongs_to_exactly_one_shard(names: list[str], count: int) -> None:
    for host in names:
        owners = [i for i in range(count) if Shard(i, count).owns(host)]
        assert owners == [shard_of(host, count)]


def test_a_hosts_shard_is_the_same_in_another_process() -> None:
    names = [f"web-{i}" for i in range(50)]
    code = "from vigil.domain.shards import shard_of; print([shard_of(f'web-{i}', 9) for i in range(50)])"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == str([shard_of(h, 9) for h in names])


def test_shards_split_a_fleet_roughly_evenly() -> None:
    counts = [0] * 9
    for i in range(9000):
        counts[shard_of(f"host-{i:05d}", 9)] += 1
    assert min(counts) > 850 and max(counts) < 1150, counts


def test_the_whole_fleet_is_one_shard_that_owns_every_host() -> None:
    assert Shard.parse({}) == Shard() and Shard().whole
    assert all(Shard().owns(h) for h in ("a", "b", "web-1"))


@pytest.mark.parametrize(
    ("detail", "field"),
    [
        ({"shard": 3, "shards": 3}, "shard"),
        ({"shard": -1, "shards": 3}, "shard"),
        ({"shard": "1", "shards": 3}, "shard"),
        ({"shard": 0}, "shards"),
        ({"shard": 0, "shards": 0}, "shards"),
        ({"shard": 0, "shards": MAX_SHARDS + 1}, "shards"),
        ({"shard": True, "shards": 2}, "shard"),
    ],
)
def test_an_impossible_shard_input_is_refused_naming_its_field(detail: dict[str, object], field: str) -> None:
    with pytest.raises(Invalid) as raised:
        Shard.parse(detail)
    assert raised.value.field == field


@given(st.lists(st.integers(), max_size=100), st.integers(min_value=1, max_value=20))
def test_the_fanned_out_map_yields_what_the_sequential_map_yields(items: list[int], workers: int) -> None:
    assert list(ordered_map(lambda x: x * 2, items, workers)) == [x * 2 for x in items]


def test_the_fanned_out_map_runs_at_most_its_workers_at_once() -> None:
    lock, running, peak = threading.Lock(), [0], [0]
    release = threading.Event()

    def slow(x: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            if running[0] == 4:
                release.set()
        release.wait(timeout=5)  # hold the first four until all four run at once
        with lock:
            running[0] -= 1
        return x

    assert list(ordered_map(slow, range(40), 4)) == list(range(40))
    assert peak[0] == 4


def test_the_fanned_out_map_overlaps_waiting_calls() -> None:
    started = time.perf_counter()
    list(ordered_map(lambda x: time.sleep(0.05), range(16), 16))  # 16 waits of 50 ms, all at once
    assert time.perf_counter() - started < 0.05 * 16 / 2


def test_a_failing_call_raises_in_order_and_later_items_are_not_started() -> None:
    seen: list[int] = []

    def fail_at_three(x: int) -> int:
        seen.append(x)
        if x == 3:
            raise ValueError("boom")
        return x

    got: list[int] = []
    with pytest.raises(ValueError, match="boom"):
        for value in ordered_map(fail_at_three, range(1000), 4):
            got.append(value)
    assert got == [0, 1, 2]
    assert len(seen) < 20  # the pool stopped taking items: at most a window's worth beyond the failure
