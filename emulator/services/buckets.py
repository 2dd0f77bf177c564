"""The default bucket of the embedded MinIO, created once it takes writes (the client: :func:`sinks.make_s3_client`)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from emulator.exceptions import ServiceStartError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


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
