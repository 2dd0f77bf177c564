"""Runs the Kinesis API in a background thread of the test process (boto3 and the aws-cli block, so the server
needs its own event loop), on a free loopback port."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3

from emulator.edge.server import EdgeServer
from emulator.kinesis import KinesisSettings
from sinks import S3Connection

REGION = "us-east-1"
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "kemu-test-secret"  # noqa: S105 - a test credential for the signature checks


@contextlib.contextmanager
def serve_kinesis(settings: KinesisSettings, bootstrap_servers: str, s3: S3Connection | None = None) -> Iterator[str]:
    """Serve ``settings`` against ``bootstrap_servers`` (Firehose delivering to ``s3``); yields the endpoint URL and
    stops the server after."""
    server = EdgeServer(settings, bootstrap_servers, host="127.0.0.1", port=0, s3=s3).start()
    try:
        yield server.url
    finally:
        server.stop()


def aws_client(
    service: str, endpoint_url: str, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY, **config: Any
) -> Any:
    """A plain boto3 client of ``service`` for ``endpoint_url``, with retries off so errors surface at once;
    ``config`` adds botocore ``Config`` options (``parameter_validation=False`` lets the server's checks answer)."""
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
    )


def kinesis_client(endpoint_url: str, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY) -> Any:
    """A plain boto3 Kinesis client for ``endpoint_url`` (:func:`aws_client`)."""
    return aws_client("kinesis", endpoint_url, access_key, secret_key)


def firehose_client(endpoint_url: str) -> Any:
    """A plain boto3 Firehose client for ``endpoint_url`` (:func:`aws_client`)."""
    return aws_client("firehose", endpoint_url)


@contextlib.contextmanager
def deleted_afterwards(delete: Callable[[str], object]) -> Iterator[Callable[[str], str]]:
    """Yields ``track(name) -> name``; on the way out every tracked name is deleted with ``delete``, best effort (a
    resource the test deleted itself, or never managed to create, is no error)."""
    tracked: list[str] = []

    def track(name: str) -> str:
        tracked.append(name)
        return name

    try:
        yield track
    finally:
        for name in tracked:
            with contextlib.suppress(Exception):
                delete(name)


def wait_active(client, name: str, timeout_s: float = 20.0) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """Poll DescribeStream until the stream is ACTIVE (boto3's waiter polls every 10 s, too slow for tests)."""
    deadline = time.monotonic() + timeout_s
    while True:
        description = client.describe_stream(StreamName=name)["StreamDescription"]
        if description["StreamStatus"] == "ACTIVE":
            return description
        if time.monotonic() > deadline:
            raise TimeoutError(f"stream {name} still {description['StreamStatus']}")
        time.sleep(0.05)
