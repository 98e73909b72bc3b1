"""DynamoDB item bounds of the fleet tier: fleet minutes with thousands of label sets, the latest
value of 10,000 hosts and their push summary are cut into parts, each well under the 400 KB item
limit, and read back whole."""

from __future__ import annotations

import random
import string
from typing import Any

from vigil.domain.fleet import fleet_rollups
from vigil.domain.models import Point

T0 = 1_764_028_800.0
BOUND = 350 * 1024


def item_sizes(client: Any, table: str) -> list[int]:
    sizes = []
    for page in client.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            sizes.append(
                sum(
                    len(k) + len(v.get("B", b"")) + len(str(v.get("S", v.get("N", ""))))
                    for k, v in item.items()
                )
            )
    return sizes


def noise(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def test_a_fleet_minute_of_5000_label_sets_of_10_long_labels_is_split_into_parts_under_350kb(
    moto_client: Any, tables: tuple[str, str], make_dynamo_store: Any
) -> None:
    store = make_dynamo_store(moto_client, tables)
    rng = random.Random(1)
    points = [
        Point(
            f"h{i % 1000}", "wide", tuple(sorted((f"k{j}", noise(rng, 64)) for j in range(10))), T0 + 1, 1.0
        )
        for i in range(5000)
    ]
    store.put_fleet(fleet_rollups(points), T0 + 100)
    sizes = item_sizes(moto_client, tables[0])
    assert len(sizes) > 1 and max(sizes) < BOUND, sizes
    got = list(store.query_fleet("wide", "1m", T0, T0 + 60, now=T0 + 100))
    assert len(got) == 5000 and sum(r.count for r in got) == 5000


def test_the_latest_value_of_10000_hosts_is_split_into_parts_under_350kb(
    moto_client: Any, tables: tuple[str, str], make_dynamo_store: Any
) -> None:
    store = make_dynamo_store(moto_client, tables)
    rng = random.Random(2)
    points = [
        Point(f"host-{noise(rng, 40)}-{i}", "cpu", (("cpu", "total"),), T0 + 1, rng.random())
        for i in range(10000)
    ]
    store.record_latest(points, T0 + 100)
    sizes = item_sizes(moto_client, tables[0])
    assert len(sizes) > 1 and max(sizes) < BOUND, sizes
    assert len(store.latest_by_host("cpu", since=T0)) == 10000


def test_the_push_summary_of_10000_hosts_with_long_names_is_split_into_parts_under_350kb(
    moto_client: Any, tables: tuple[str, str], make_dynamo_store: Any
) -> None:
    store = make_dynamo_store(moto_client, tables)
    rng = random.Random(3)
    pushes = {f"host-{noise(rng, 200)}-{i}": (T0 + i, 60.0 if i % 2 else None) for i in range(10000)}
    store.pushes.save(pushes)
    sizes = item_sizes(moto_client, tables[0])
    assert len(sizes) > 1 and max(sizes) < BOUND, sizes
    assert store.pushes.load() == pushes
