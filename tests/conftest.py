"""Shared fixtures: one real Kafka and one real S3 per session, and a topic, group and prefix per test."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from emulator.settings import Settings
from tests.support.endpoints import (
    KAFKA_IMAGE,
    MINIO_IMAGE,
    SOURCE_VARIABLE,
    Endpoints,
    ServicesUnavailable,
    Source,
    acquire,
    planned_source,
    requested_source,
)
from tests.support.s3 import s3_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

TopicFactory = Callable[..., Awaitable[str]]
DOCKER_VARIABLE = "KEMU_TEST_DOCKER"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by folder, so `-m unit`, `-m integration`, `-m packaging` and `-m docker` select them without a
    decorator in every file. The Docker tests need an engine and the pinned images: they run when
    ``KEMU_TEST_DOCKER=1`` (and then fail, never skip, without them); otherwise they are deselected, as the
    report says."""
    docker_wanted = os.environ.get(DOCKER_VARIABLE) == "1"
    kept: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        parts = Path(str(item.fspath)).parts
        if "integration" in parts:
            item.add_marker(pytest.mark.integration)
        elif "unit" in parts:
            item.add_marker(pytest.mark.unit)
        elif "packaging" in parts:
            item.add_marker(pytest.mark.packaging)
        elif "docker" in parts:
            item.add_marker(pytest.mark.docker)
            if not docker_wanted:
                deselected.append(item)
                continue
        kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


_obtained: list[str] = []


def pytest_report_header(config: pytest.Config) -> str | list[str]:
    """Which source the integration tests will use, said before any starts (``KEMU_TEST_SERVICES`` picks one)."""
    try:
        requested = requested_source(os.environ)
        planned = planned_source(requested, Settings.load())
    except (ServicesUnavailable, ValueError) as exc:
        return f"services: {exc}"
    how = {
        Source.ENV: "addresses from the environment",
        Source.DOCKER: f"testcontainers ({KAFKA_IMAGE}, {MINIO_IMAGE})",
        Source.EMBEDDED: "the embedded launcher",
    }[planned]
    docker = "run" if os.environ.get(DOCKER_VARIABLE) == "1" else f"deselected (set {DOCKER_VARIABLE}=1 to run them)"
    return [f"services: {how} ({SOURCE_VARIABLE}={requested.value})", f"docker tests (tests/docker): {docker}"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in _obtained:
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def endpoints(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoints]:
    """The session's Kafka and S3. Never skips: with no way to get them, every integration test fails and says how."""
    try:
        with acquire(Settings.load(), tmp_path_factory.mktemp("services"), requested_source(os.environ)) as found:
            line = f"[services] Kafka {found.kafka_bootstrap}, S3 {found.s3_endpoint} from {found.source}"
            _obtained.append(line)
            print(f"\n{line}")
            yield found
    except ServicesUnavailable as exc:
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


def _slug(request: pytest.FixtureRequest, width: int) -> str:
    return re.sub(r"[^a-zA-Z0-9]+", "-", request.node.name)[:width].strip("-").lower()


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> Callable[..., str]:
    """``unique_name("orders")`` → ``orders-<test name>-<8 hex>``: a name no other test or run uses; ``width`` cuts
    the test name (60 characters unless given) where a name has a tighter limit."""

    def make(kind: str, width: int = 60) -> str:
        return f"{kind}-{_slug(request, width)}-{uuid.uuid4().hex[:8]}"

    return make


@pytest.fixture
async def new_topic(kafka_bootstrap: str, unique_name: Callable[[str], str]) -> AsyncIterator[TopicFactory]:
    """Creates topics only this test uses (``await new_topic(partitions=4)``) and deletes them afterwards."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    created: list[str] = []
    try:
        await admin.start()

        async def create(partitions: int = 1, name: str | None = None) -> str:
            topic = name or unique_name("topic")
            await admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
            created.append(topic)
            return topic

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
