"""The agent's pusher and loop against a real loopback HTTP receiver: delivery, retries, drops, stop."""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter

import pytest

from vigil.agent.pusher import Pusher, PushSettings
from vigil.agent.runner import AgentHandle, AgentLoop, start_agent_thread, start_local_agent
from vigil.domain.models import SampleBatch, SampleIn

FAST = PushSettings(backoff_base=0.02, backoff_max=0.1, connect_timeout=2.0, read_timeout=5.0)


class SeqCollector:
    """Deterministic stand-in for the host collector: each tick yields one sample whose value is its
    sequence number, so a test can check that every sample arrived exactly once and in order."""

    def __init__(self) -> None:
        self.produced = 0
        self.lock = threading.Lock()

    def __call__(self) -> list[SampleIn]:
        with self.lock:
            n = self.produced
            self.produced += 1
        return [SampleIn(metric="test.seq", value=float(n), ts=1_764_190_000.0 + n)]


def start(
    url: str, collect: SeqCollector, *, key: str = "k-123", flush: float = 0.05, settings: PushSettings = FAST
) -> AgentHandle:
    pusher = Pusher(url, key, "web-1", settings)
    return start_agent_thread(AgentLoop(collect, pusher, interval=0.01, flush_every=flush))


def test_batches_carry_no_batch_id_but_a_ts_on_every_sample_and_the_bearer_key(receiver, wait_until):
    seq = SeqCollector()
    handle = start(receiver.url, seq)
    receiver.wait_for(lambda r: len(r.requests) >= 3)
    handle.stop()
    for req in receiver.requests:
        assert req.path == "/v1/samples"
        assert req.headers["authorization"] == "Bearer k-123"
        assert req.headers["content-type"] == "application/json"
        batch = SampleBatch.model_validate_json(req.body)
        assert batch.host == "web-1"
        # the content identifies a retry (one write per push on DynamoDB: no batch claim)
        assert batch.batch_id is None
        assert all(s.ts is not None for s in batch.samples)
    assert receiver.stored_values() == [float(i) for i in range(seq.produced)]


def test_samples_buffered_while_the_server_is_down_arrive_once_when_it_returns(receiver, wait_until):
    receiver.stop()  # the port is now refusing connections
    seq = SeqCollector()
    handle = start(receiver.url, seq)
    wait_until(lambda: handle.stats.failed_attempts >= 3 and seq.produced >= 10, message="failures")
    assert handle.is_alive()
    assert handle.pusher.buffered > 0
    receiver.start()  # same port
    receiver.wait_for(lambda r: len(r.stored) >= 2)
    handle.stop()
    assert not handle.is_alive()
    assert receiver.stored_values() == [float(i) for i in range(seq.produced)]  # nothing lost, no dups
    assert handle.stats.delivered_samples == seq.produced
    assert handle.stats.dropped_samples == 0


def test_a_batch_retried_after_503_is_resent_byte_for_byte_and_stored_once(receiver):
    answers = iter([503, 503, 429])

    def flaky(req):
        status = next(answers, None)
        if status is None:
            return receiver.ingest(req)
        return status, {"Retry-After": "0"}, b'{"error": {"code": "unavailable", "message": "busy"}}'

    receiver.responder = flaky
    seq = SeqCollector()
    handle = start(receiver.url, seq)
    receiver.wait_for(lambda r: len(r.stored) >= 3)
    handle.stop()
    first = receiver.requests[0].body
    attempts = Counter(r.body for r in receiver.requests)
    assert attempts[first] == 4  # three failures, then accepted: the same bytes every time
    assert [r.status for r in receiver.requests[:4]] == [503, 503, 429, 202]
    acked = Counter(r.body for r in receiver.requests if r.status == 202)
    assert set(acked.values()) == {1}
    assert receiver.stored_values() == [float(i) for i in range(seq.produced)]


def test_a_full_buffer_drops_the_oldest_samples_and_logs_how_many(receiver, caplog):
    caplog.set_level(logging.INFO, logger="vigil.agent")
    receiver.stop()
    pusher = Pusher(receiver.url, "k", "web-1", PushSettings(max_batch=3, buffer_limit=5, backoff_base=0.01))
    pusher.add([SampleIn(metric="test.seq", value=float(i)) for i in range(4)])
    assert not pusher.flush()  # server down: kept
    pusher.add([SampleIn(metric="test.seq", value=float(i)) for i in range(4, 9)])
    assert pusher.buffered == 5
    assert pusher.stats.dropped_samples == 4
    assert "dropped the oldest 4 samples" in caplog.text
    receiver.start()
    assert pusher.flush()
    assert receiver.stored_values() == [4.0, 5.0, 6.0, 7.0, 8.0]  # the newest survive, in order


def test_a_batch_sent_once_is_dropped_whole_rather_than_trimmed_when_the_buffer_overflows(receiver):
    receiver.stop()
    pusher = Pusher(receiver.url, "k", "web-1", PushSettings(max_batch=3, buffer_limit=5, backoff_base=0.01))
    pusher.add([SampleIn(metric="test.seq", value=float(i)) for i in range(3)])
    assert not pusher.flush()  # server down: [0, 1, 2] was sent once and may have been stored
    pusher.add([SampleIn(metric="test.seq", value=float(i)) for i in range(3, 6)])
    # one sample too many: trimming [0, 1, 2] to [1, 2] would be new content the server stores again
    assert pusher.stats.dropped_samples == 3
    assert pusher.buffered == 3
    receiver.start()
    assert pusher.flush()
    assert receiver.stored_values() == [3.0, 4.0, 5.0]


def test_samples_added_without_ts_are_stamped_when_added_so_a_retry_has_the_same_content(receiver):
    pusher = Pusher(receiver.url, "k", "web-1", wall=lambda: 1_764_190_123.5)
    pusher.add([SampleIn(metric="test.seq", value=1.0)])
    assert pusher.flush()
    (batch,) = receiver.stored.values()
    assert [s.ts for s in batch.samples] == [1_764_190_123.5]


def test_a_400_is_logged_with_the_field_and_that_batch_is_dropped(receiver, caplog):
    caplog.set_level(logging.INFO, logger="vigil.agent")
    rejected: list[bytes] = []

    def picky(req):
        if not rejected:
            rejected.append(req.body)
            body = {
                "error": {"code": "invalid", "message": "value must be finite", "field": "samples[0].value"}
            }
            return 400, {"Content-Type": "application/json"}, json.dumps(body).encode()
        return receiver.ingest(req)

    receiver.responder = picky
    seq = SeqCollector()
    handle = start(receiver.url, seq)
    receiver.wait_for(lambda r: len(r.stored) >= 2)
    handle.stop()
    assert "samples[0].value" in caplog.text
    assert "value must be finite" in caplog.text
    assert "dropping its" in caplog.text
    sent = [r.body for r in receiver.requests]
    assert sent.count(rejected[0]) == 1  # never retried
    assert handle.stats.rejected_samples >= 1
    assert handle.stats.delivered_samples + handle.stats.rejected_samples == seq.produced


def test_a_401_logs_check_your_key_and_the_agent_keeps_running_and_keeps_the_samples(receiver, caplog):
    caplog.set_level(logging.INFO, logger="vigil.agent")
    receiver.responder = lambda req: (401, {}, b'{"error": {"code": "unauthorized", "message": "bad key"}}')
    seq = SeqCollector()
    handle = start(receiver.url, seq, key="wrong-key")
    receiver.wait_for(lambda r: len(r.requests) >= 3)
    assert "check your --key" in caplog.text
    assert "wrong-key" not in caplog.text  # the key itself is never logged
    assert handle.is_alive()
    with receiver.cond:
        receiver.responder = None  # the key becomes valid (e.g. restored on the server)
    receiver.wait_for(lambda r: len(r.stored) >= 1)
    handle.stop()
    assert receiver.stored_values() == [float(i) for i in range(seq.produced)]


def test_stopping_the_handle_flushes_what_was_sampled_since_the_last_push(receiver, wait_until):
    seq = SeqCollector()
    handle = start(receiver.url, seq, flush=3600.0)  # only the first sample goes out before stop
    receiver.wait_for(lambda r: len(r.stored) == 1)
    wait_until(lambda: seq.produced >= 5, message="five ticks")
    handle.stop()
    assert len(receiver.stored) == 2
    assert receiver.stored_values() == [float(i) for i in range(seq.produced)]


def test_the_local_agent_pushes_this_hosts_real_samples_every_interval(receiver):
    handle = start_local_agent(receiver.url, "k-local", 0.05, "dev box")  # made valid: dev-box

    def has_cpu(r) -> bool:
        return any(s.metric == "system.cpu.utilization" for b in r.stored.values() for s in b.samples)

    receiver.wait_for(has_cpu)
    handle.stop()
    assert not handle.is_alive()
    batches = list(receiver.stored.values())
    assert len(batches) >= 2  # flushes every interval, not every minute
    assert {b.host for b in batches} == {"dev-box"}
    assert receiver.requests[0].headers["authorization"] == "Bearer k-local"
    names = {s.metric for b in batches for s in b.samples}
    assert {"system.memory.utilization", "system.memory.usage", "system.process.count"} <= names


@pytest.mark.parametrize("status", [404, 413, 422])
def test_other_client_errors_drop_the_batch_instead_of_retrying_forever(receiver, status):
    receiver.responder = lambda req: (status, {}, b"nope")
    pusher = Pusher(receiver.url, "k", "web-1", FAST)
    pusher.add([SampleIn(metric="test.seq", value=1.0)])
    assert pusher.flush()
    assert pusher.buffered == 0
    assert pusher.stats.rejected_samples == 1
    assert len(receiver.requests) == 1
