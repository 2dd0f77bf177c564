"""The destination: bytes → S3 objects, retried with backoff while S3 is unreachable, never given up silently."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from sinks.config import S3Connection
from sinks.exceptions import DestinationError, StopRequested

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Error codes that retrying will not fix: the stream stops with a message instead of looping forever.
FATAL_CODES = frozenset(
    {"NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidBucketName"}
)


#: Seconds to connect, and the longest S3 may stay silent on a connection (before an answer, or between its bytes).
#: A frozen server (stopped, hung, behind a dead link) still accepts connections, so only the read timeout notices
#: it: with botocore's one-second wait for ``100 Continue``, a request to it fails after about 12 s, and the
#: outage shows ("waiting for S3") then. A live server answers a PUT within milliseconds of its last byte.
CONNECT_TIMEOUT_S = 2
READ_TIMEOUT_S = 10


def make_s3_client(connection: S3Connection, attempts: int = 1) -> S3Client:
    """A boto3 client for S3-compatible servers: path-style, checksums only when required, short timeouts and by
    default a single attempt per call (our own loop retries, so an outage is noticed quickly and logged). The one S3
    client factory of the project: the emulator's probes, bucket creation and tests use it too; a caller with no
    retry loop of its own (a test reading what landed) asks for more ``attempts``."""
    config = Config(
        s3={"addressing_style": "path"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        # ``max_attempts`` counts retries, not attempts: 1 made botocore try twice, doubling the silence.
        retries={"total_max_attempts": attempts, "mode": "standard"},
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        max_pool_connections=8,
    )
    secret = connection.secret_access_key.get_secret_value() if connection.secret_access_key else None
    return boto3.client(
        "s3",
        endpoint_url=connection.endpoint_url,
        aws_access_key_id=connection.access_key_id,
        aws_secret_access_key=secret,
        region_name=connection.region,
        config=config,
    )


class Backoff:
    """Exponential backoff: 0.1 s doubling to ``cap_s``."""

    def __init__(self, first_s: float = 0.1, cap_s: float = 5.0) -> None:
        self.first_s, self.cap_s = first_s, cap_s
        self.delay_s = first_s

    def next(self) -> float:
        delay, self.delay_s = self.delay_s, min(self.delay_s * 2, self.cap_s)
        return delay


class S3Destination:
    """Writes whole objects with one PUT each (a buffer is at most 128 MiB, far under S3's 5 GiB single-PUT limit),
    so no multipart upload is ever left half-done by us; :meth:`abort_incomplete_uploads` cleans others' leftovers."""

    def __init__(self, client: S3Client, bucket: str, stop: asyncio.Event | None = None) -> None:
        self._client = client
        self.bucket = bucket
        #: Set to stop retrying: a write that cannot finish is abandoned (its records stay uncommitted).
        self.stop_event = stop or asyncio.Event()
        #: Attempts that failed and were retried since start (an outage shows up here).
        self.retries = 0
        self.waiting_since: float | None = None

    async def put(self, key: str, body: bytes, content_type: str) -> None:
        await self._retrying(
            f"PUT {key}",
            lambda: self._client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type),
        )

    async def get(self, key: str) -> bytes | None:
        def fetch() -> bytes | None:
            try:
                return self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    return None
                raise

        return await self._retrying(f"GET {key}", fetch)

    async def abort_incomplete_uploads(self, prefix: str, name_marker: str) -> int:
        """Abort multipart uploads under ``prefix`` whose key contains ``name_marker`` (ours only: the bucket may be
        shared) and that never completed; returns how many."""

        def run() -> int:
            aborted = 0
            # Listed without a prefix and filtered here: MinIO lists an upload only for its exact key or for none.
            pages = self._client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket)
            for page in pages:
                for upload in page.get("Uploads", []):
                    if not upload["Key"].startswith(prefix) or name_marker not in upload["Key"]:
                        continue
                    self._client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    aborted += 1
            return aborted

        return await self._retrying(f"list uploads under {prefix!r}", run)

    async def _retrying(self, what: str, call: Callable[[], T]) -> T:
        backoff = Backoff()
        loop = asyncio.get_running_loop()
        while True:
            try:
                result = await asyncio.to_thread(call)
                if self.waiting_since is not None:
                    log.warning("S3 answers again after %.0f s; resuming", loop.time() - self.waiting_since)
                    self.waiting_since = None
                return result
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code", ""))
                if code in FATAL_CODES:
                    raise DestinationError(f"S3 refused {what} in bucket {self.bucket!r}: {code}") from exc
                problem = f"{code or 'error'}"
            except (BotoCoreError, OSError) as exc:
                problem = type(exc).__name__
            self.retries += 1
            if self.waiting_since is None:
                self.waiting_since = loop.time()
                log.warning("S3 unavailable (%s on %s); retrying with backoff, consumption paused", problem, what)
            try:
                await asyncio.wait_for(self.stop_event.wait(), timeout=backoff.next())
            except TimeoutError:
                continue
            raise StopRequested(f"stopped while S3 was unavailable ({what})")
