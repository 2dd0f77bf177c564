"""S3 client construction for the emulator, with the settings S3-compatible servers need."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from emulator.exceptions import ServiceStartError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def s3_client(endpoint_url: str, access_key_id: str, secret_access_key: str, region: str = "us-east-1") -> S3Client:
    """A boto3 S3 client for MinIO: path-style, and no checksum headers newer botocore adds (MinIO may refuse them)."""
    config = Config(
        s3={"addressing_style": "path"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        region_name=region,
        config=config,
    )


def ensure_bucket(client: S3Client, bucket: str, timeout_s: float = 30.0) -> None:
    """Create ``bucket`` unless it exists; retried because MinIO may answer health before it takes writes."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            client.head_bucket(Bucket=bucket)
            return
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
                last: Exception = exc
            else:
                try:
                    client.create_bucket(Bucket=bucket)
                    return
                except ClientError as create_exc:
                    code = create_exc.response.get("Error", {}).get("Code")
                    if code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        return
                    last = create_exc
        except BotoCoreError as exc:
            last = exc
        if time.monotonic() > deadline:
            raise ServiceStartError(f"could not create bucket {bucket!r}: {last}") from last
        time.sleep(0.5)
