"""The object store a command talks to, in the one shape every part of the emulator passes around.

Resolved by :func:`emulator.cli.services.s3_target`: the S3 the settings name (endpoint and credentials), else the
running embedded MinIO of ``kemu services``. Light on purpose (no FastAPI, no Kafka client): every command imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import SecretStr

from emulator.settings import S3Settings

if TYPE_CHECKING:
    from sinks import S3Connection


@dataclass(frozen=True)
class S3Target:
    """An S3 endpoint with its credentials and the bucket the emulator writes to."""

    endpoint_url: str
    access_key_id: str
    secret_access_key: SecretStr
    bucket: str
    region: str = "us-east-1"

    @classmethod
    def configured(cls, s3: S3Settings) -> S3Target | None:
        """The S3 of the settings, when they give its endpoint and both credentials."""
        if not (s3.endpoint_url and s3.access_key_id and s3.secret_access_key):
            return None
        return cls(s3.endpoint_url, s3.access_key_id, s3.secret_access_key, s3.bucket, s3.region)

    def connection(self) -> S3Connection:
        """The same endpoint as the sinks library takes it."""
        from sinks import S3Connection

        return S3Connection(
            endpoint_url=self.endpoint_url,
            access_key_id=self.access_key_id,
            secret_access_key=self.secret_access_key,
            region=self.region,
        )
