"""The local server's cost meter: requests through the gateway, scheduled jobs at their share of an
AWS invocation (their store work too), DynamoDB-equivalent units estimated around a real SQLite
store that still answers exactly as before, flushed into the hour's usage document."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN, FrozenClock
from vigil.adapters.store.chunks import Chunk, plan_chunks
from vigil.config import Config
from vigil.domain.cost import Usage
from vigil.domain.models import Point
from vigil.local.client import GatewayClient
from vigil.local.gateway import Gateway
from vigil.local.metered_store import ITEM_OVERHEAD_BYTES, LEARNING_PUSHES, MEASURE_EVERY
from vigil.local.server import metered_job, metered_store
from vigil.local.usage_meter import UsageMeter
from vigil.services.cost import USAGE_KIND, hour_of
from vigil.wiring import AppContext

T0 = 1_764_000_000.0 // 3600 * 3600 + 60.0


def _setup(tmp_path: Path, interval: float = 10.0) -> tuple[UsageMeter, AppContext, FrozenClock]:
    config = Config(data_dir=tmp_path / "data", admin_token=ADMIN_TOKEN, evaluation_period_seconds=interval)
    clock = FrozenClock(T0)
    meter = UsageMeter(config.sqlite_path, started=T0)
    return meter, AppContext(config, clock=clock, _store=metered_store(config, meter)), clock


def test_each_gateway_request_is_an_api_request_and_a_lambda_invocation(tmp_path: Path) -> None:
    meter, ctx, clock = _setup(tmp_path)
    client = GatewayClient(Gateway(ctx, usage=meter), token=ADMIN_TOKEN)
    for _ in range(3):
        assert client.get("/api/hosts").status == 200
    clock.advance(60)
    usage = meter.take(clock.now())
    assert usage.api_requests == 3 and usage.lambda_requests == 3
    assert usage.lambda_gb_seconds > 0 and usage.rru >= 1.5 and usage.seconds == 60


def test_an_evaluation_every_ten_seconds_counts_a_sixth_of_an_invocation_and_of_its_reads(
    tmp_path: Path,
) -> None:
    meter, ctx, clock = _setup(tmp_path, interval=10.0)
    job = metered_job(meter, ctx.config, "alerts", lambda now: ctx.store.get_doc("rule", "none"))
    job(clock.now())
    usage = meter.take(clock.now())
    assert usage.lambda_requests == 1 / 6
    assert usage.rru == 1 / 6  # one strongly consistent document read, at a sixth
    assert usage.api_requests == 0


def test_the_metered_store_answers_like_the_store_and_counts_a_pushs_write_units(tmp_path: Path) -> None:
    meter, ctx, _clock = _setup(tmp_path)
    points = [
        Point("web-1", "system.cpu.utilization", (("cpu", "total"),), T0 - 10 * i, 0.5) for i in range(6)
    ]
    assert ctx.store.put_samples("web-1", points, "b-1", T0)
    first = meter.take(T0)
    # chunk item + batch claim + first-seen series + first-seen metric + host refresh + FRESH marker
    assert first.wru == 6
    assert sorted(p.ts for p in ctx.store.query_points("system.cpu.utilization", T0 - 100, T0)) == sorted(
        p.ts for p in points
    )
    assert meter.take(T0).rru == 0.5
    again = [Point("web-1", "system.cpu.utilization", (("cpu", "total"),), T0 + 10, 0.5)]
    assert ctx.store.put_samples("web-1", again, None, T0 + 10)
    assert meter.take(T0 + 10).wru == 2  # the chunk, and the host refresh while its cadence is learnt


def test_flushes_add_up_in_the_current_hours_document(tmp_path: Path) -> None:
    meter, ctx, _clock = _setup(tmp_path)
    meter.add(api_requests=2)
    meter.flush(ctx.store, T0 + 30)
    meter.add(api_requests=3)
    meter.flush(ctx.store, T0 + 90)
    (doc,) = ctx.store.list_docs(USAGE_KIND)
    usage = Usage.from_doc(doc)
    assert doc["hour"] == hour_of(T0)
    assert usage.api_requests == 5 and usage.seconds == 90
    assert usage.storage_gb_hours > 0  # the SQLite file, for the time covered
    assert usage.rru > 0 and usage.wru > 0  # the flush's own document read and write


def test_the_metered_store_keeps_the_sqlite_stores_summary_ports_even_for_static_lookups(
    tmp_path: Path,
) -> None:
    import inspect

    from vigil.capabilities import HistogramSummaryStore, SummaryStore

    _meter, ctx, _clock = _setup(tmp_path)
    assert isinstance(ctx.store, SummaryStore) and isinstance(ctx.store, HistogramSummaryStore)
    # what isinstance() uses on Python 3.12+: a static lookup that never reaches __getattr__
    assert inspect.getattr_static(ctx.store, "summarise") is not None


def test_local_chores_aws_does_not_bill_as_store_work_count_nothing(tmp_path: Path) -> None:
    meter, ctx, _clock = _setup(tmp_path)
    chore = meter.uncounted(
        lambda now: (ctx.store.get_doc("rule", "x"), ctx.store.put_doc("k", "d", {"a": 1}))
    )
    chore(T0)
    usage = meter.take(T0)
    assert usage.rru == 0 and usage.wru == 0 and usage.lambda_requests == 0


def test_a_steady_hosts_large_batches_are_packed_once_in_32_and_counted_within_five_per_cent_of_packing_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vigil.local.metered_store as metered_module

    packed: list[int] = []

    def counting_plan_chunks(points: Any, bkey: str | None) -> list[Chunk]:
        packed.append(len(points))
        return plan_chunks(points, bkey)

    monkeypatch.setattr(metered_module, "plan_chunks", counting_plan_chunks)
    meter, ctx, _clock = _setup(tmp_path)

    def sample(n: int, j: int) -> Point:  # a gauge's 3-decimal readings, 20 metrics x 3 shards
        ts, value = T0 - 3000 + n * 2 + j * 1e-3, round(50 + 40 * math.sin(n * 1000 + j), 3)
        return Point("web-1", f"app.m{j % 20}", (("shard", str(j % 3)),), ts, value)

    batches = [[sample(n, j) for j in range(1000)] for n in range(64)]
    exact = 0.0
    for n, points in enumerate(batches):
        assert ctx.store.put_samples("web-1", points, f"b-{n}", T0)
        exact += sum(math.ceil((len(c.data) + ITEM_OVERHEAD_BYTES) / 1024) for c in plan_chunks(points, None))
    assert len(packed) <= 64 // MEASURE_EVERY + 1
    chunk_units = meter.take(T0).wru - 64 - 1  # less the 64 batch claims and the FRESH marker
    chunk_units -= 60 + 20 + LEARNING_PUSHES  # first-seen series and metrics, the host's refreshes
    assert chunk_units == pytest.approx(exact, rel=0.05)


def test_an_array_result_is_metered_by_its_bytes_without_formatting_it_as_text() -> None:
    import numpy as np

    from vigil.adapters.store.arrays import BucketArrays
    from vigil.local.metered_store import _bytes

    cells = 100_000
    column = np.arange(cells, dtype=np.float64)
    found = BucketArrays([("web-1", ())], np.zeros(cells, np.int64), column, column, column, column, column)
    # the series list as JSON, the six columns' bytes (`str(array)` would print "[0. 1. ... 99999.]")
    assert (
        _bytes(found)
        == len(
            '{"series": [["web-1", []]], "index": null, "start": null, "count": null,'
            ' "total": null, "lo": null, "hi": null}'
        )
        + 6 * 8 * cells
    )


def test_a_fleets_first_batches_of_the_same_series_are_packed_once_in_32_and_counted_as_packing_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host's first batch is its shape's last packed batch's units (another host's); 64 hosts of
    the same series and cadence, each its own values: 2 packings, not 64, and the count within the
    error the module states (1.5 %) of packing each. A host sending other series, or the same at
    another cadence, is packed."""
    import vigil.local.metered_store as metered_module

    packed: list[str] = []

    def counting_plan_chunks(points: Any, bkey: str | None) -> list[Chunk]:
        packed.append(points[0].host)
        return plan_chunks(points, bkey)

    monkeypatch.setattr(metered_module, "plan_chunks", counting_plan_chunks)
    meter, ctx, _clock = _setup(tmp_path)

    def batch(host: str, step: float, metric: str = "app.m") -> list[Point]:
        seed = sum(host.encode())  # 60 series x 20 samples, a random walk of 6 decimals per host
        return [
            Point(
                host,
                f"{metric}{j % 20}",
                (("shard", str(j % 3)),),
                T0 - 3000 + k * step,
                round(50 + 40 * math.sin(seed * 7.1 + j * 1.3 + k * 0.01 * (1 + seed % 5)), 6),
            )
            for j in range(60)
            for k in range(20)
        ]

    exact = 0.0
    for h in range(64):
        points = batch(f"web-{h}", 60.0)
        assert ctx.store.put_samples(f"web-{h}", points, None, T0)
        exact += sum(math.ceil((len(c.data) + ITEM_OVERHEAD_BYTES) / 1024) for c in plan_chunks(points, None))
    assert len(packed) == 2
    chunk_units = meter.take(T0).wru - 1  # less the FRESH marker
    chunk_units -= 64 * 60 + 20 + 64  # first-seen series and metrics, each host's first refresh
    assert chunk_units == pytest.approx(exact, rel=0.015)
    assert ctx.store.put_samples("db-1", batch("db-1", 60.0, "db.m"), None, T0)
    assert ctx.store.put_samples("web-fast", batch("web-fast", 10.0), None, T0)
    assert packed[2:] == ["db-1", "web-fast"]


def test_a_small_flat_document_is_counted_as_one_unit_without_being_encoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json

    import vigil.local.metered_store as metered_module

    docs = [
        {"minute": 1764000000.0},
        {"host": "wéb-1" * 10, "hour": -1.2345678901234567e-308, "n": 2**63, "ok": True, "none": None},
        {"big": "x" * 1100},  # encoded: 2 units
        {"nested": {"a": 1}},  # encoded
        {"n": 2**70},  # encoded
    ]
    want = [float(max(1, math.ceil(len(json.dumps(d)) / 1024))) for d in docs]
    encoded: list[Any] = []
    real = metered_module._bytes
    monkeypatch.setattr(metered_module, "_bytes", lambda v: encoded.append(v) or real(v))
    assert [metered_module._doc_write_units(d) for d in docs] == want == [1, 1, 2, 1, 1]
    assert encoded == docs[2:]
