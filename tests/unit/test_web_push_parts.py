"""Web Push's pure parts under hypothesis: any JSON a client sends is either a subscription document or
a 400 naming a field (never another exception), and any payload that fits one record decrypts — with
http-ece, not our code — to exactly what was encrypted for a browser's keys."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.webpush_receiver import Browser, b64e
from vigil.adapters.notify.webpush import RECORD_SIZE, encrypt
from vigil.domain.errors import Invalid
from vigil.domain.push import parse_subscription, subscription_id

BROWSER = Browser()
KEYS = {"p256dh": BROWSER.p256dh, "auth": b64e(BROWSER.auth)}
json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
subscriptions = st.fixed_dictionaries(
    {},
    optional={
        "endpoint": st.one_of(json_values, st.just("https://push.example.com/x")),
        "keys": st.one_of(
            json_values, st.just(KEYS), st.dictionaries(st.sampled_from(["p256dh", "auth"]), json_values)
        ),
        "severities": st.one_of(json_values, st.lists(st.sampled_from(["info", "warning", "critical", "x"]))),
        "expirationTime": json_values,
    },
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(subscriptions)
def test_any_json_is_a_subscription_or_a_400_naming_a_field(data: dict[str, Any]) -> None:
    try:
        doc = parse_subscription(data, 1000.0)
    except Invalid as exc:
        assert exc.field
        return
    assert doc["id"] == subscription_id(doc["endpoint"])
    assert (doc["p256dh"], doc["auth"]) == (KEYS["p256dh"], KEYS["auth"])
    assert doc["severities"] and set(doc["severities"]) <= {"info", "warning", "critical"}


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=RECORD_SIZE - 86 - 17))
def test_any_payload_that_fits_one_record_decrypts_to_itself(plaintext: bytes) -> None:
    assert BROWSER.decrypt(encrypt(plaintext, KEYS["p256dh"], KEYS["auth"])) == plaintext


def test_a_payload_too_large_for_one_record_is_refused() -> None:
    with pytest.raises(ValueError, match="too large"):
        encrypt(b"x" * (RECORD_SIZE - 86 - 16), KEYS["p256dh"], KEYS["auth"])
