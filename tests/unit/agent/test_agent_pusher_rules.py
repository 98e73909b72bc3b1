"""The pusher's pure rules: status classification, backoff, error messages, the buffer bound."""

from __future__ import annotations

import json
import logging

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from vigil.agent.pusher import Outcome, Pusher, PushSettings, backoff_delay, classify, describe_error
from vigil.domain.models import SampleIn


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (202, Outcome.DELIVERED),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (503, Outcome.RETRY),
        (401, Outcome.AUTH),
        (403, Outcome.AUTH),
        (400, Outcome.REJECTED),
        (404, Outcome.REJECTED),
        (413, Outcome.REJECTED),
        (301, Outcome.REJECTED),
    ],
)
def test_statuses_are_classified_like_alertmanager_notifiers(status, outcome):
    assert classify(status) is outcome


@given(
    st.integers(min_value=1, max_value=10_000),
    st.floats(min_value=0.001, max_value=10),
    st.floats(min_value=0.01, max_value=600),
    st.floats(min_value=0, max_value=0.999999),
)
def test_backoff_stays_between_half_and_all_of_the_capped_exponential(failures, base, cap, rnd):
    ceiling = min(cap, base * 2.0 ** min(failures - 1, 60))
    delay = backoff_delay(failures, base, cap, rnd)
    assert ceiling / 2 <= delay <= ceiling <= cap


def test_backoff_doubles_until_the_cap():
    assert [backoff_delay(n, 1.0, 8.0, 0.999999) for n in range(1, 6)] == pytest.approx([1, 2, 4, 8, 8], 1e-5)


def response(status: int, body: bytes) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp._content = body
    resp.reason = "Bad Request"
    return resp


def test_the_servers_error_names_the_code_message_and_field():
    body = {"error": {"code": "invalid", "message": "value must be finite", "field": "samples[2].value"}}
    text = describe_error(response(400, json.dumps(body).encode()))
    assert text == "invalid: value must be finite (field samples[2].value)"


def test_a_non_json_error_body_is_shown_shortened_on_one_line():
    assert describe_error(response(502, b"<html>\nbad gateway\n</html>")) == "<html> bad gateway </html>"
    assert describe_error(response(400, b"")) == "Bad Request"


def test_an_invalid_host_name_is_refused_up_front():
    with pytest.raises(ValueError, match="host name"):
        Pusher("http://127.0.0.1:1", "k", "bad host!")


def samples(values: range) -> list[SampleIn]:
    return [SampleIn(metric="test.seq", value=float(v)) for v in values]


def test_the_buffer_bound_drops_whole_old_batches_first_and_counts_every_sample(caplog):
    caplog.set_level(logging.WARNING, logger="vigil.agent")
    pusher = Pusher("http://127.0.0.1:1", "k", "web-1", PushSettings(max_batch=2, buffer_limit=5))
    pusher.add(samples(range(4)))  # two sealed batches of 2
    assert pusher.buffered == 4
    pusher.add(samples(range(4, 9)))
    assert pusher.buffered == 5
    assert pusher.stats.dropped_samples == 4
    assert "dropped the oldest 4 samples (4 dropped since start)" in caplog.text
    pusher.add(samples(range(9, 10)))
    assert pusher.stats.dropped_samples == 5
    assert "(5 dropped since start)" in caplog.text


def test_nothing_is_sent_and_nothing_is_pending_retry_before_a_batch_is_sealed():
    pusher = Pusher("http://127.0.0.1:1", "k", "web-1")
    pusher.add(samples(range(3)))
    assert pusher.send_due()  # nothing sealed, nothing attempted
    assert pusher.retry_at is None
    assert pusher.stats.failed_attempts == 0
