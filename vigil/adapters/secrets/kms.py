"""Envelope-free field encryption with the stack's KMS key, for secrets kept in DynamoDB documents
(Slack/Discord webhook URLs, webhook HMAC keys, e-mail/SMS endpoints).

Each value is one `kms:Encrypt` call (plaintexts here are far under KMS's 4 KB limit, so no data key is
needed) bound to an encryption context naming the document and field it belongs to: a ciphertext
copied into another item does not decrypt. Decryptions are cached per process (warm Lambdas pay KMS
once per value and container), bounded. botocore is imported lazily. Imports: standard library,
`vigil.adapters.aws`.
"""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict
from typing import Any

PREFIX = "kms:v1:"  # marks a sealed value inside a document body
CONTEXT_KEY = "vigil:field"  # IAM conditions may pin kms:EncryptionContext:vigil:field
_CACHE_SIZE = 512


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


class KmsSealer:
    """`seal`/`open` strings with one KMS key. `client` is a botocore KMS client; built lazily."""

    def __init__(self, key_arn: str, client: Any | None = None) -> None:
        self.key_arn = key_arn
        self._client = client
        self._lock = threading.Lock()
        self._opened: OrderedDict[tuple[str, str], str] = OrderedDict()

    @property
    def client(self) -> Any:
        if self._client is None:
            from vigil.adapters import aws

            self._client = aws.client("kms", retry_mode="adaptive")
        return self._client

    def seal(self, plaintext: str, context: str) -> str:
        got = self.client.encrypt(
            KeyId=self.key_arn,
            Plaintext=plaintext.encode(),
            EncryptionContext={CONTEXT_KEY: context},
        )
        return PREFIX + base64.b64encode(got["CiphertextBlob"]).decode()

    def open(self, sealed: str, context: str) -> str:
        """Raises:
        ValueError: `sealed` is not a value `seal` made."""
        if not is_sealed(sealed):
            raise ValueError("not a sealed value")
        cache_key = (sealed, context)
        with self._lock:
            if cache_key in self._opened:
                self._opened.move_to_end(cache_key)
                return self._opened[cache_key]
        got = self.client.decrypt(
            KeyId=self.key_arn,  # only this key: a ciphertext made with another key is refused
            CiphertextBlob=base64.b64decode(sealed[len(PREFIX) :]),
            EncryptionContext={CONTEXT_KEY: context},
        )
        plaintext: str = got["Plaintext"].decode()
        with self._lock:
            self._opened[cache_key] = plaintext
            while len(self._opened) > _CACHE_SIZE:
                self._opened.popitem(last=False)
        return plaintext
