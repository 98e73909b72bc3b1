"""Web Push state on both stores: subscriptions (one per browser endpoint, replaced on re-subscribe,
deleted once) and the VAPID key document (created once, the same pair read back); on DynamoDB with
the stack's KMS key (moto) the endpoint, the browser's keys and the VAPID private key are sealed at
rest while the public key stays readable."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.webpush_receiver import Browser
from vigil.adapters.secrets.kms import KmsSealer
from vigil.adapters.store.dynamodb import DynamoStore
from vigil.alerting import push
from vigil.config import Config
from vigil.domain.errors import NotFound
from vigil.domain.push import SUBSCRIPTION_KIND, VAPID_KIND

RETENTION = 7 * 86400.0
ENDPOINT = "https://127.0.0.1:8443/push/device-token-abcdef"
LOCAL = Config()  # the local SSRF policy: loopback allowed


def test_a_browser_subscribes_once_per_endpoint_and_unsubscribes(store: Any) -> None:
    browser = Browser()
    first = push.subscribe(store, LOCAL, browser.subscription(ENDPOINT), 1000.0)
    again = push.subscribe(store, LOCAL, browser.subscription(ENDPOINT, severities=["warning"]), 2000.0)
    other = push.subscribe(store, LOCAL, Browser().subscription(ENDPOINT + "-2"), 3000.0)

    assert first["id"] == again["id"] != other["id"]
    docs = {d["id"]: d for d in store.list_docs(SUBSCRIPTION_KIND)}
    assert set(docs) == {first["id"], other["id"]}
    kept = docs[first["id"]]
    assert (kept["endpoint"], kept["p256dh"], kept["severities"]) == (ENDPOINT, browser.p256dh, ["warning"])

    push.unsubscribe(store, first["id"])
    assert [d["id"] for d in store.list_docs(SUBSCRIPTION_KIND)] == [other["id"]]
    with pytest.raises(NotFound):
        push.unsubscribe(store, first["id"])


def test_the_vapid_key_document_is_created_once_and_read_back(store: Any) -> None:
    created = push._load_doc(store)
    assert push._load_doc(store) == created  # a later cold start reads the same pair
    assert store.get_doc(VAPID_KIND, push.VAPID_DOC_ID)["public_key"] == created.public_key


@pytest.fixture
def sealed_store(moto_client: Any, tables: tuple[str, str]) -> DynamoStore:
    kms = boto3.client("kms", region_name="us-east-1")
    sealer = KmsSealer(kms.create_key()["KeyMetadata"]["Arn"], client=kms)
    return DynamoStore(*tables, RETENTION, client=moto_client, sealer=sealer)


def raw_body(moto_client: Any, table: str, kind: str, doc_id: str) -> str:
    item = moto_client.get_item(TableName=table, Key={"pk": {"S": f"DOC#{kind}"}, "sk": {"S": doc_id}})
    return str(item["Item"]["body"]["S"])


def test_push_secrets_are_sealed_at_rest_with_the_stack_key(
    sealed_store: DynamoStore, moto_client: Any, tables: tuple[str, str]
) -> None:
    browser = Browser()
    sub = push.subscribe(sealed_store, LOCAL, browser.subscription(ENDPOINT), 1000.0)
    keys = push._load_doc(sealed_store)

    at_rest = raw_body(moto_client, tables[1], SUBSCRIPTION_KIND, sub["id"])
    assert "device-token" not in at_rest and browser.p256dh not in at_rest
    vapid_at_rest = raw_body(moto_client, tables[1], VAPID_KIND, push.VAPID_DOC_ID)
    assert "PRIVATE KEY" not in vapid_at_rest and keys.public_key in vapid_at_rest
    opened = sealed_store.get_doc(SUBSCRIPTION_KIND, sub["id"])
    assert opened is not None and (opened["endpoint"], opened["p256dh"]) == (ENDPOINT, browser.p256dh)
    assert push._load_doc(sealed_store) == keys
