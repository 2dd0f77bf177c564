"""A Kinesis API server per test module (against the session's Kafka), a boto3 client, and a stream factory."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from emulator.kinesis import KinesisSettings
from tests.support.kinesis_server import kinesis_client, serve_kinesis, wait_active

StreamFactory = Callable[..., str]


@pytest.fixture(scope="module")
def kinesis_url(kafka_bootstrap: str) -> Iterator[str]:
    # A short CREATING phase, so tests see CREATING → ACTIVE without racing the topic creation.
    with serve_kinesis(KinesisSettings(create_delay_s=0.3, shard_limit=200), kafka_bootstrap) as url:
        yield url


@pytest.fixture(scope="module")
def kinesis(kinesis_url: str) -> Any:
    return kinesis_client(kinesis_url)


@pytest.fixture
def stream_name(request: pytest.FixtureRequest) -> Callable[[], str]:
    base = "".join(ch if ch.isalnum() else "-" for ch in request.node.name)[:40].strip("-").lower()
    return lambda: f"ks-{base}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def new_stream(kinesis: Any, stream_name: Callable[[], str]) -> Iterator[StreamFactory]:
    """``new_stream(shards=2)`` creates an ACTIVE stream through the API; deleted after the test."""
    created: list[str] = []

    def create(shards: int = 1, name: str | None = None) -> str:
        name = name or stream_name()
        kinesis.create_stream(StreamName=name, ShardCount=shards)
        created.append(name)
        wait_active(kinesis, name)
        return name

    yield create
    for name in created:
        with contextlib.suppress(Exception):
            kinesis.delete_stream(StreamName=name)
