"""Writes the public status page's files to the dashboard's S3 bucket (AWS), behind the same
CloudFront distribution as the dashboard. `Cache-Control` bounds how long CloudFront (whose cache
policy honours the origin's max-age) and browsers keep a version. Imports: `vigil.adapters.aws`
(botocore, lazily, once)."""

from __future__ import annotations

from functools import cached_property
from typing import Any


class S3StatusSite:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        self._client = client

    @cached_property
    def client(self) -> Any:
        if self._client is not None:
            return self._client
        from vigil.adapters import aws

        return aws.client("s3")

    def put(self, key: str, body: bytes, content_type: str, max_age: int) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            CacheControl=f"public, max-age={max_age}",
        )
