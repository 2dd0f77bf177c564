"""Shared fixtures: one real Kafka and one real S3 per session, and a topic, group and prefix per test."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from emulator.services.buckets import s3_client
from emulator.settings import Settings
from tests.support.endpoints import Endpoints, acquire

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

TopicFactory = Callable[..., Awaitable[str]]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by folder, so `-m unit`, `-m integration` and `-m packaging` select them without a decorator in
    every file."""
    for item in items:
        parts = Path(str(item.fspath)).parts
        if "integration" in parts:
            item.add_marker(pytest.mark.integration)
        elif "unit" in parts:
            item.add_marker(pytest.mark.unit)
        elif "packaging" in parts:
            item.add_marker(pytest.mark.packaging)


@pytest.fixture(scope="session")
def endpoints(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoints]:
    """The session's Kafka and S3. Never skips: with no way to get them, every integration test fails and says how."""
    try:
        with acquire(Settings.load(), tmp_path_factory.mktemp("services")) as found:
            print(f"\n[services] Kafka {found.kafka_bootstrap}, S3 {found.s3_endpoint} from {found.source}")
            yield found
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def kafka_bootstrap(endpoints: Endpoints) -> str:
    return endpoints.kafka_bootstrap


@pytest.fixture(scope="session")
def s3(endpoints: Endpoints) -> S3Client:
    return s3_client(endpoints.s3_endpoint, endpoints.s3_access_key, endpoints.s3_secret_key, endpoints.s3_region)


@pytest.fixture(scope="session")
def bucket(endpoints: Endpoints) -> str:
    return endpoints.bucket


def _slug(request: pytest.FixtureRequest) -> str:
    return re.sub(r"[^a-zA-Z0-9]+", "-", request.node.name)[:60].strip("-").lower()


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """``unique_name("orders")`` → ``orders-<test name>-<8 hex>``: a name no other test or run uses."""

    def make(kind: str) -> str:
        return f"{kind}-{_slug(request)}-{uuid.uuid4().hex[:8]}"

    return make


@pytest.fixture
async def new_topic(kafka_bootstrap: str, unique_name: Callable[[str], str]) -> AsyncIterator[TopicFactory]:
    """Creates topics only this test uses (``await new_topic(partitions=4)``) and deletes them afterwards."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    created: list[str] = []

    async def create(partitions: int = 1, name: str | None = None) -> str:
        topic = name or unique_name("topic")
        await admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
        created.append(topic)
        return topic

    try:
        yield create
    finally:
        if created:
            await admin.delete_topics(created)
        await admin.close()


@pytest.fixture
def new_group_id(unique_name: Callable[[str], str]) -> Callable[[], str]:
    return lambda: unique_name("group")


@pytest.fixture
def bucket_prefix(unique_name: Callable[[str], str]) -> str:
    """An S3 key prefix only this test writes under, ending in ``/``."""
    return unique_name("test") + "/"
