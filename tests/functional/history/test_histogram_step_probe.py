"""The step probe over raw histograms read from which samples exist (`HistogramPresenceStore`) must
build exactly the columns, and so learn exactly the interval, that the general probe computes from the
merged histograms — for any cadence, gaps, label sets per host, and samples that counted nothing."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.adapters.store.sqlite import SqliteStore
from vigil.config import Config
from vigil.domain.records import Histogram, Point
from vigil.services import step_probe
from vigil.services.queries import SeriesQuery, plan_series, run_series

NOW = 1_800_000_000.0
METRIC = "http.server.request.duration"
BOUNDS = (0.1, 0.5, 1.0)


def histogram(observed: int) -> Histogram:
    return Histogram(BOUNDS, (observed, 0, 0, 0), 0.05 * observed, observed)


HostSamples = tuple[int, int, list[int], tuple[tuple[str, str], ...]]
host_samples = st.tuples(
    st.sampled_from([10, 15, 30, 60, 120]),  # the host's cadence, s
    st.integers(min_value=0, max_value=59),  # its offset within the minute
    st.lists(st.integers(min_value=0, max_value=2), min_size=1, max_size=70),  # observations per sample
    st.sampled_from([(), (("route", "/a"),), (("route", "/b"),)]),
)


def seeded(directory: Path, fleet: list[HostSamples]) -> SqliteStore:
    store = SqliteStore(directory / "v.sqlite3", retention_seconds=7 * 86400)
    for h, (every, offset, counts, labels) in enumerate(fleet):
        host = f"h-{h % 7}"  # some hosts get two label sets
        first = NOW - 1200 + offset
        points = [
            Point(host, METRIC, labels, first + every * i, None, histogram(c))
            for i, c in enumerate(counts)
            if first + every * i <= NOW
        ]
        store.put_samples(host, points, None, NOW)
    return store


def present(column: list[float | None]) -> list[bool]:
    """All the probe reads of a column: which buckets have a value."""
    return [v is not None for v in column]


def overview_query(agg: str, hosts: str | None) -> SeriesQuery:
    return plan_series(
        Config(data_dir=Path(tempfile.gettempdir())),
        NOW,
        metric=METRIC,
        host=hosts,
        labels=None,
        start="-1h",
        end="now",
        agg=agg,
        step=None,
        group_by="none",
    )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(host_samples, min_size=1, max_size=12),
    st.sampled_from(["p50,p95,p99,rate", "p95", "rate", "count,avg"]),
    st.sampled_from([None, "h-0"]),
)
def test_the_histogram_probe_builds_the_columns_the_general_probe_computes(
    fleet: list[HostSamples], agg: str, hosts: str | None
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = seeded(Path(tmp), fleet)
        q = overview_query(agg, hosts)
        probe_from = q.end - max(step_probe.PROBE_SECONDS, 20 * q.step)
        fast = step_probe._histogram_columns(store, q, NOW, probe_from)
        assert fast is not None  # raw histograms kept apart by host: the store answers
        timestamps, columns = step_probe._probed_columns(store, q, NOW, probe_from, run_series)
        assert fast[0] == timestamps
        assert [present(c) for c in fast[1]] == [present(c) for c in columns]
        store.close()


def test_plain_values_in_the_probes_range_leave_it_to_the_general_probe(tmp_path: Path) -> None:
    store = seeded(tmp_path, [(60, 0, [1] * 20, ())])
    store.put_samples("h-9", [Point("h-9", METRIC, (), NOW - 30, 0.2)], None, NOW)
    q = overview_query("p95", None)
    assert step_probe._histogram_columns(store, q, NOW, NOW - 600) is None
    assert step_probe.probe_interval(store, q, NOW, run_series) == 60
    store.close()


def test_over_more_hosts_than_an_answer_holds_both_probes_learn_nothing(tmp_path: Path) -> None:
    # 501 hosts kept apart pass MAX_SERIES (500): the general probe's TooLarge, and the same here
    store = SqliteStore(tmp_path / "v.sqlite3", retention_seconds=7 * 86400)
    for h in range(501):
        points = [Point(f"h-{h}", METRIC, (), NOW - 120 + 60 * i, None, histogram(1)) for i in range(3)]
        store.put_samples(f"h-{h}", points, None, NOW)
    q = overview_query("p95,rate", None)
    probe_from = q.end - max(step_probe.PROBE_SECONDS, 20 * q.step)
    assert step_probe._histogram_columns(store, q, NOW, probe_from) == ([], [])
    assert step_probe._probed_columns(store, q, NOW, probe_from, run_series) == ([], [])
    store.close()
