"""An S3 client for tests, made by the project's one factory (:func:`sinks.make_s3_client`) from plain arguments,
with a few attempts per call: a test has no retry loop of its own around what it reads, and the machine may be busy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import SecretStr

from sinks import S3Connection, make_s3_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def s3_client(endpoint_url: str, access_key_id: str, secret_access_key: str, region: str = "us-east-1") -> S3Client:
    return make_s3_client(
        S3Connection(
            endpoint_url=endpoint_url,
            access_key_id=access_key_id,
            secret_access_key=SecretStr(secret_access_key),
            region=region,
        ),
        attempts=3,
    )
