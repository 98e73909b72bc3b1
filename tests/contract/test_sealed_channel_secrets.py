"""Channel secrets at rest on DynamoDB (issue 14): with the stack's KMS key (moto), a channel's webhook
URL, HMAC key and e-mail/SMS endpoint are stored encrypted, bound to the document and field they belong
to, read back in clear by a store holding the key, refused by one without it, and a channel written in
clear by an older Vigil is re-written encrypted on first read."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from vigil.adapters.secrets.kms import KmsSealer
from vigil.adapters.store.dynamodb import DynamoStore
from vigil.alerting.repo import CHANNEL_KIND, SUBSCRIPTION_KIND

RETENTION = 7 * 86400.0
URL = "https://hooks.slack.com/services/T000/B000/sealed-token-1234"
HMAC = "hmac-signing-key-0123456789abcdef"


@pytest.fixture
def sealer(moto_client: Any) -> KmsSealer:
    kms = boto3.client("kms", region_name="us-east-1")
    return KmsSealer(kms.create_key()["KeyMetadata"]["Arn"], client=kms)


def raw_body(moto_client: Any, table: str, kind: str, doc_id: str) -> str:
    item = moto_client.get_item(TableName=table, Key={"pk": {"S": f"DOC#{kind}"}, "sk": {"S": doc_id}})
    return str(item["Item"]["body"]["S"])


def channel(doc_id: str = "c-1") -> dict[str, Any]:
    return {"id": doc_id, "type": "webhook", "name": "ops", "target": URL, "secret": HMAC, "enabled": True}


def test_channel_secrets_are_stored_encrypted_and_read_back_in_clear(
    moto_client: Any, tables: tuple[str, str], sealer: KmsSealer
) -> None:
    store = DynamoStore(*tables, RETENTION, client=moto_client, sealer=sealer)
    store.put_doc(CHANNEL_KIND, "c-1", channel())
    store.put_doc(SUBSCRIPTION_KIND, "c-2", {"id": "c-2", "arn": "arn:x", "endpoint": "+15555550100"})
    stored = raw_body(moto_client, tables[1], CHANNEL_KIND, "c-1")
    assert URL not in stored and HMAC not in stored and "sealed-token" not in stored
    assert json.loads(stored)["name"] == "ops"  # only the secret fields are sealed
    assert "+15555550100" not in raw_body(moto_client, tables[1], SUBSCRIPTION_KIND, "c-2")
    got = store.get_doc(CHANNEL_KIND, "c-1")
    assert got is not None and (got["target"], got["secret"]) == (URL, HMAC)
    assert [d["target"] for d in store.list_docs(CHANNEL_KIND)] == [URL]
    assert store.get_doc(SUBSCRIPTION_KIND, "c-2")["endpoint"] == "+15555550100"  # type: ignore[index]


def test_a_sealed_value_does_not_open_under_another_channel(
    moto_client: Any, tables: tuple[str, str], sealer: KmsSealer
) -> None:
    store = DynamoStore(*tables, RETENTION, client=moto_client, sealer=sealer)
    store.put_doc(CHANNEL_KIND, "c-1", channel("c-1"))
    stolen = json.loads(raw_body(moto_client, tables[1], CHANNEL_KIND, "c-1"))["target"]
    with pytest.raises(Exception, match="InvalidCiphertext"):
        sealer.open(stolen, "channel/c-2/target")


def test_a_store_without_the_key_refuses_to_read_sealed_secrets(
    moto_client: Any, tables: tuple[str, str], sealer: KmsSealer
) -> None:
    DynamoStore(*tables, RETENTION, client=moto_client, sealer=sealer).put_doc(CHANNEL_KIND, "c-1", channel())
    keyless = DynamoStore(*tables, RETENTION, client=moto_client)
    with pytest.raises(ValueError, match="encrypted and no key is configured"):
        keyless.get_doc(CHANNEL_KIND, "c-1")


def test_a_channel_written_in_clear_is_sealed_on_first_read(
    moto_client: Any, tables: tuple[str, str], sealer: KmsSealer
) -> None:
    DynamoStore(*tables, RETENTION, client=moto_client).put_doc(CHANNEL_KIND, "c-1", channel())
    assert URL in raw_body(moto_client, tables[1], CHANNEL_KIND, "c-1")  # an older Vigil's item
    store = DynamoStore(*tables, RETENTION, client=moto_client, sealer=sealer)
    assert store.get_doc(CHANNEL_KIND, "c-1")["target"] == URL  # type: ignore[index]
    stored = raw_body(moto_client, tables[1], CHANNEL_KIND, "c-1")
    assert URL not in stored and HMAC not in stored
    assert store.get_doc(CHANNEL_KIND, "c-1")["secret"] == HMAC  # type: ignore[index]
