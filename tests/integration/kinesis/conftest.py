"""A Kinesis API server per test module (against the session's Kafka), a boto3 client, and a stream factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from emulator.kinesis import KinesisSettings
from tests.support.kinesis_server import deleted_afterwards, kinesis_client, serve_kinesis, wait_active

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
def stream_name(unique_name: Callable[..., str]) -> Callable[[], str]:
    return lambda: unique_name("ks", width=40)


@pytest.fixture
def new_stream(kinesis: Any, stream_name: Callable[[], str]) -> Iterator[StreamFactory]:
    """``new_stream(shards=2)`` creates an ACTIVE stream through the API; deleted after the test."""
    with deleted_afterwards(lambda name: kinesis.delete_stream(StreamName=name)) as track:

        def create(shards: int = 1, name: str | None = None) -> str:
            name = track(name or stream_name())
            kinesis.create_stream(StreamName=name, ShardCount=shards)
            wait_active(kinesis, name)
            return name

        yield create
