"""The `Store` contract: every case runs against SqliteStore and DynamoStore (moto)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from vigil.domain.errors import Conflict, NotFound
from vigil.domain.models import ApiKeyRecord, ErrorEvent, Histogram, Point
from vigil.ports import Store

T0 = 1_764_190_000.0  # 2025-11-26T20:46:40Z, not on a minute boundary
NOW = T0 + 300


def pt(metric: str, value: float, ts: float, host: str = "web-1", **labels: str) -> Point:
    return Point(host, metric, tuple(sorted(labels.items())), ts, value)


def query(store: Any, metric: str, start: float = T0 - 3600, end: float = T0 + 3600, **kw: Any) -> set[Point]:
    kw.setdefault("now", NOW)
    return set(store.query_points(metric, start, end, **kw))


def test_both_stores_implement_the_store_protocol(store: Any) -> None:
    assert isinstance(store, Store)


def test_values_histograms_and_labels_round_trip_exactly(store: Any) -> None:
    hist = Histogram((0.005, 0.1, 2.5), (3, 0, 7, 1), 12.345678901234567, 11, 0.001, 3.75)
    points = [
        pt("m.exact", 0.1 + 0.2, T0, cpu="0", mode="user"),
        pt("m.exact", 1e-300, T0 + 0.001),
        pt("m.exact", -12345678.901234567, T0 + 59.999999),
        pt("m.exact", 7, T0 + 61.25, cpu="total"),
        Point("web-1", "http.server.request.duration", (("route", "/api/x"),), T0 + 1.5, None, hist),
        Point("web-1", "http.server.request.duration", (), T0 + 2, None, Histogram((1.0,), (0, 0), 0.0, 0)),
    ]
    assert store.put_samples("web-1", points, "b-1", NOW) is True
    assert query(store, "m.exact") == set(points[:4])
    assert query(store, "http.server.request.duration") == set(points[4:])
    assert all(isinstance(p.value, float) for p in query(store, "m.exact"))


def test_batch_replayed_with_the_same_batch_id_is_stored_once(store: Any) -> None:
    batch = [pt("m", float(i), T0 + i * 10) for i in range(12)]  # spans two minutes
    assert store.put_samples("web-1", batch, "agent-42", NOW) is True
    assert store.put_samples("web-1", batch, "agent-42", NOW + 5) is False
    assert len(list(store.query_points("m", T0 - 60, T0 + 3600, now=NOW))) == 12


def test_identical_batch_without_batch_id_is_stored_once(store: Any) -> None:
    batch = [pt("m", 1.5, T0), pt("m", 2.5, T0 + 10, cpu="1")]
    assert store.put_samples("web-1", batch, None, NOW) is True
    assert store.put_samples("web-1", batch, None, NOW + 1) is False
    assert len(list(store.query_points("m", T0 - 60, T0 + 60, now=NOW))) == 2


def test_different_batches_without_batch_id_are_both_stored(store: Any) -> None:
    assert store.put_samples("web-1", [pt("m", 1.0, T0)], None, NOW) is True
    assert store.put_samples("web-1", [pt("m", 1.0, T0 + 10)], None, NOW) is True
    assert store.put_samples("web-2", [pt("m", 1.0, T0, host="web-2")], None, NOW) is True
    assert len(query(store, "m")) == 3


def test_the_same_sample_resent_under_a_new_batch_id_is_returned_once(store: Any) -> None:
    store.put_samples("web-1", [pt("m", 1.0, T0)], "first", NOW)
    store.put_samples("web-1", [pt("m", 1.0, T0)], "second", NOW)
    assert len(list(store.query_points("m", T0 - 60, T0 + 60, now=NOW))) == 1


def test_label_filter_keeps_points_whose_labels_include_every_pair(store: Any) -> None:
    a = pt("cpu", 1.0, T0, cpu="0", mode="user")
    b = pt("cpu", 2.0, T0, cpu="0", mode="system")
    c = pt("cpu", 3.0, T0, cpu="1", mode="user")
    store.put_samples("web-1", [a, b, c], None, NOW)
    assert query(store, "cpu", labels={"cpu": "0"}) == {a, b}
    assert query(store, "cpu", labels={"cpu": "0", "mode": "user"}) == {a}
    assert query(store, "cpu", labels={"cpu": "9"}) == set()
    assert query(store, "cpu", labels={}) == {a, b, c}


def test_host_filter_and_metric_name_select_exactly_those_points(store: Any) -> None:
    one, two = pt("m", 1.0, T0, host="web-1"), pt("m", 2.0, T0, host="web-2")
    store.put_samples("web-1", [one, pt("other", 5.0, T0)], None, NOW)
    store.put_samples("web-2", [two], None, NOW)
    assert query(store, "m", hosts=["web-2"]) == {two}
    assert query(store, "m", hosts=["web-1", "web-2"]) == {one, two}
    assert query(store, "m", hosts=["nobody"]) == set()
    assert query(store, "m") == {one, two}


def test_time_bounds_are_inclusive_at_both_ends(store: Any) -> None:
    points = [pt("m", float(i), T0 + i * 30) for i in range(8)]  # 3.5 minutes, crossing boundaries
    store.put_samples("web-1", points, None, NOW)
    assert query(store, "m", start=T0 + 30, end=T0 + 150) == set(points[1:6])
    assert query(store, "m", start=T0 + 30.001, end=T0 + 149.999) == set(points[2:5])
    assert query(store, "m", start=T0 + 60, end=T0 + 60) == {points[2]}
    assert query(store, "m", start=T0 + 1000, end=T0 + 2000) == set()


def test_points_older_than_the_retention_are_never_returned(store: Any, retention: float) -> None:
    old = pt("m", 1.0, T0 - 3 * 86400)  # its own chunk, entirely expired later
    edge = pt("m", 2.0, T0 - 10)  # same minute-chunk as `fresh`, expired later
    fresh = pt("m", 3.0, T0 + 10)
    store.put_samples("web-1", [old, edge, fresh], None, T0 + 20)
    later = T0 + retention  # the cutoff is now T0: `old` and `edge` are past retention
    assert query(store, "m", start=T0 - 4 * 86400, end=T0 + 60, now=T0 + 20) == {old, edge, fresh}
    assert query(store, "m", start=T0 - 4 * 86400, end=T0 + 60, now=later) == {fresh}
    assert query(store, "m", start=T0 - 4 * 86400, end=T0 + 60, now=later + 60) == set()


def test_purge_expired_leaves_only_points_within_retention(store: Any, retention: float) -> None:
    store.put_samples("web-1", [pt("m", 1.0, T0 - 86400), pt("m", 2.0, T0 + 10)], None, T0 + 20)
    removed = store.purge_expired(T0 - 86400 + retention + 1)
    assert removed in (0, 1)  # SQLite deletes; DynamoDB leaves it to TTL and filters reads
    assert query(store, "m", start=T0 - 2 * 86400, now=T0 - 86400 + retention + 1) == {pt("m", 2.0, T0 + 10)}


def test_latest_points_are_the_newest_of_each_series_since(store: Any) -> None:
    store.put_samples(
        "web-1",
        [
            pt("cpu", 1.0, T0, cpu="0"),
            pt("cpu", 2.0, T0 + 10, cpu="0"),
            pt("cpu", 9.0, T0 - 600, cpu="1"),
            pt("mem", 5.0, T0 + 5),
        ],
        None,
        NOW,
    )
    store.put_samples("web-1", [pt("cpu", 3.0, T0 + 200, cpu="0")], None, NOW)
    store.put_samples("web-2", [pt("cpu", 4.0, T0 + 20, host="web-2", cpu="0")], None, NOW)
    latest = set(store.latest_points(["cpu"], T0 - 60))
    assert latest == {pt("cpu", 3.0, T0 + 200, cpu="0"), pt("cpu", 4.0, T0 + 20, host="web-2", cpu="0")}
    assert set(store.latest_points(["cpu", "mem"], T0 + 150)) == {pt("cpu", 3.0, T0 + 200, cpu="0")}
    assert {p.metric for p in store.latest_points(["cpu", "mem"], T0 - 60)} == {"cpu", "mem"}
    assert store.latest_points(["nothing"], T0 - 60) == []
    assert store.latest_points([], T0 - 60) == []


def test_list_hosts_reports_first_and_last_seen_and_series_count(store: Any) -> None:
    store.put_samples("web-1", [pt("cpu", 1.0, T0 - 30, cpu="0")], None, T0)
    store.put_samples("web-1", [pt("cpu", 1.0, T0 + 30, cpu="0")], None, T0 + 60)  # same series
    store.put_samples("db-1", [pt("cpu", 1.0, T0 + 5, host="db-1")], None, T0 + 10)
    store.put_samples("web-1", [pt("cpu", 1.0, T0 + 590, cpu="1"), pt("mem", 1.0, T0 + 590)], None, T0 + 600)
    store.put_samples("web-1", [pt("mem", 2.0, T0 + 650)], None, T0 + 660)  # same series again
    hosts = {h.host: h for h in store.list_hosts()}
    assert [h.host for h in store.list_hosts()] == ["db-1", "web-1"]
    assert (hosts["web-1"].first_seen, hosts["web-1"].last_seen, hosts["web-1"].series) == (T0, T0 + 660, 3)
    assert (hosts["db-1"].first_seen, hosts["db-1"].last_seen, hosts["db-1"].series) == (T0 + 10, T0 + 10, 1)


def test_list_hosts_learns_each_hosts_push_interval_from_its_pushes(store: Any) -> None:
    for k in range(6):  # a 60 s agent with a little jitter, and a host that pushed once (a curl)
        at = T0 + 60 * k + (1.5 if k % 2 else 0.0)
        store.put_samples("agent-1", [pt("cpu", 0.5, at - 5, host="agent-1")], None, at)
    store.put_samples("curl-1", [pt("cpu", 0.5, T0, host="curl-1")], None, T0)
    hosts = {h.host: h for h in store.list_hosts()}
    assert hosts["agent-1"].cadence.interval == pytest.approx(60.0, abs=1.5)
    assert hosts["agent-1"].cadence.last_push == T0 + 301.5
    assert hosts["curl-1"].cadence.interval is None
    assert hosts["curl-1"].cadence.last_push == T0


def test_a_declared_push_interval_is_kept_from_the_first_push(store: Any) -> None:
    store.put_samples("agent-2", [pt("cpu", 0.5, T0, host="agent-2")], None, T0, push_interval=300.0)
    (host,) = store.list_hosts()
    assert host.cadence.interval == 300.0


def test_list_metrics_reports_every_label_key_seen(store: Any) -> None:
    store.put_samples(
        "web-1",
        [pt("cpu", 1.0, T0, cpu="0"), pt("cpu", 1.0, T0, cpu="1", mode="user"), pt("up", 1.0, T0)],
        None,
        NOW,
    )
    store.put_samples("web-2", [pt("cpu", 1.0, T0, host="web-2", core="7")], None, NOW)
    assert store.list_metrics() == {"cpu": ["core", "cpu", "mode"], "up": []}


def test_known_series_and_series_count_are_per_host(store: Any) -> None:
    store.put_samples(
        "web-1",
        [pt("cpu", 1.0, T0, cpu="0"), pt("cpu", 2.0, T0 + 10, cpu="0"), pt("mem", 1.0, T0)],
        None,
        NOW,
    )
    store.put_samples("web-1", [pt("cpu", 1.0, T0 + 20, cpu="1")], None, NOW)
    store.put_samples("web-2", [pt("cpu", 1.0, T0, host="web-2")], None, NOW)
    assert store.known_series("web-1") == {"web-1|cpu|cpu=0", "web-1|cpu|cpu=1", "web-1|mem|"}
    assert store.series_count("web-1") == 3
    assert store.series_count("web-2") == 1
    assert store.known_series("nobody") == set()
    assert store.series_count("nobody") == 0


def test_keys_are_found_by_hash_listed_and_revoked(store: Any) -> None:
    k1 = ApiKeyRecord("k1", "web-1", "ingest", "hash-1", T0)
    k2 = ApiKeyRecord("k2", "dash", "viewer", "hash-2", T0 + 1, last_used_at=T0 + 5)
    store.put_key(k2)
    store.put_key(k1)
    assert store.find_key("hash-1") == k1
    assert store.find_key("hash-2") == k2
    assert store.find_key("nope") is None
    assert store.list_keys() == [k1, k2]
    revoked = store.revoke_key("k1")
    assert revoked.revoked is True and revoked.id == "k1" and revoked.secret_hash == "hash-1"
    found = store.find_key("hash-1")
    assert found is not None and found.revoked is True
    assert [k.revoked for k in store.list_keys()] == [True, False]
    with pytest.raises(NotFound):
        store.revoke_key("missing")


def test_a_key_use_is_recorded_as_last_used_at_and_never_moves_back(store: Any) -> None:
    store.put_key(ApiKeyRecord("k1", "web-1", "ingest", "hash-1", T0))
    assert [k.last_used_at for k in store.list_keys()] == [None]
    store.touch_key("k1", T0 + 60)
    assert [k.last_used_at for k in store.list_keys()] == [T0 + 60]
    store.touch_key("k1", T0 + 30)  # a late writer (another container) does not turn the clock back
    assert [k.last_used_at for k in store.list_keys()] == [T0 + 60]
    store.touch_key("k1", T0 + 120)
    store.revoke_key("k1")
    [key] = store.list_keys()
    assert (key.last_used_at, key.revoked) == (T0 + 120, True)
    store.touch_key("gone", T0)  # a key deleted meanwhile: nothing happens, nothing is created
    assert [k.id for k in store.list_keys()] == ["k1"]


def _err(fp: str, ts: float, message: str = "boom", **kw: Any) -> ErrorEvent:
    return ErrorEvent(
        fp,
        kw.pop("type", "ValueError"),
        message,
        kw.pop("stack", None),
        kw.pop("service", "api"),
        kw.pop("host", None),
        ts,
        kw.pop("trace_id", None),
    )


def test_error_groups_accumulate_counts_and_first_and_last_seen(store: Any) -> None:
    store.record_errors(
        [_err("a", T0, "m1", host="h1", stack="s1", trace_id="t1"), _err("a", T0 + 5, "m1b", host="h1")]
    )
    store.record_errors([_err("a", T0 + 10, "m2", host="h2", stack="s2")])
    store.record_errors([_err("a", T0 - 50, "m0", host="h0")])  # late, older event
    store.record_errors([_err("b", T0 + 100, "other", type="KeyError", service=None)])
    groups = store.list_error_groups(T0 - 1000)
    assert [g.fingerprint for g in groups] == ["b", "a"]  # newest first
    a = groups[1]
    assert (a.count, a.first_seen, a.last_seen) == (4, T0 - 50, T0 + 10)
    assert (a.type, a.message, a.service, a.sample_stack) == ("ValueError", "m2", "api", "s1")
    assert (a.last_host, a.last_trace_id) == ("h2", "t1")
    b = groups[0]
    assert (b.type, b.count, b.service, b.sample_stack, b.last_host) == ("KeyError", 1, None, None, None)
    assert [g.fingerprint for g in store.list_error_groups(T0 + 50)] == ["b"]
    assert [g.fingerprint for g in store.list_error_groups(T0 - 1000, limit=1)] == ["b"]
    assert store.list_error_groups(T0 + 101) == []


def test_documents_version_on_every_write_and_refuse_stale_versions(store: Any) -> None:
    assert store.get_doc("rule", "r1") is None
    assert store.put_doc("rule", "r1", {"name": "cpu", "threshold": 80.5}) == {
        "name": "cpu",
        "threshold": 80.5,
        "_version": 1,
    }
    assert store.put_doc("rule", "r1", {"name": "cpu", "threshold": 90})["_version"] == 2
    with pytest.raises(Conflict):
        store.put_doc("rule", "r1", {"name": "x"}, expected_version=0)
    with pytest.raises(Conflict):
        store.put_doc("rule", "r1", {"name": "x"}, expected_version=1)
    assert store.put_doc("rule", "r1", {"name": "y", "_version": 2}, expected_version=2)["_version"] == 3
    assert store.get_doc("rule", "r1") == {"name": "y", "_version": 3}
    assert store.put_doc("rule", "r0", {"nested": {"a": [1, None, "x"]}}, expected_version=0)["_version"] == 1
    with pytest.raises(Conflict):
        store.put_doc("rule", "r9", {"name": "x"}, expected_version=4)
    store.put_doc("channel", "c1", {"type": "inbox"})
    assert store.list_docs("rule") == [
        {"nested": {"a": [1, None, "x"]}, "_version": 1},
        {"name": "y", "_version": 3},
    ]
    assert store.delete_doc("rule", "r1") is True
    assert store.delete_doc("rule", "r1") is False
    assert store.get_doc("rule", "r1") is None
    assert [d["type"] for d in store.list_docs("channel")] == ["inbox"]
    assert store.list_docs("nothing") == []


def test_concurrent_writers_lose_no_points(store: Any, moto_serves_one_call_at_a_time: None) -> None:
    threads, batches, per_batch = 8, 4, 30
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def push(worker: int) -> None:
        try:
            start.wait()
            for b in range(batches):
                points = [
                    pt("load", float(i), T0 + b * per_batch + i, host=f"h{worker}", n=str(i % 3))
                    for i in range(per_batch)
                ]
                assert store.put_samples(f"h{worker}", points, f"w{worker}-b{b}", NOW) is True
        except BaseException as exc:  # surfaced below; a thread's exception is otherwise lost
            failures.append(exc)

    workers = [threading.Thread(target=push, args=(w,)) for w in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if failures:  # re-raised so the report shows where the writer failed, not just the exception's repr
        raise failures[0]
    assert len(query(store, "load")) == threads * batches * per_batch
    assert sorted(h.host for h in store.list_hosts()) == [f"h{w}" for w in range(threads)]
    assert all(store.series_count(f"h{w}") == 3 for w in range(threads))


def test_ping_answers_when_the_backend_is_up(store: Any) -> None:
    store.ping()
