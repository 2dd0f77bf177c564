"""Kafka and MinIO through testcontainers, on loopback ports, removed when the session ends.

Ryuk (testcontainers' reaper container) is not used: its image cannot be pulled where no registry is reachable, and
the session removes its containers itself. Every container carries ``kemu.tests.owner-pid``; a session first
removes the containers of owners that no longer run (a session that was killed before it could clean up).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from testcontainers.core.container import DockerContainer

from emulator.services.buckets import ensure_bucket
from emulator.services.kafka import render_server_properties
from emulator.services.ports import LOOPBACK, free_port
from tests.support.s3 import s3_client

KAFKA_IMAGE = "apache/kafka:4.1.1"
MINIO_IMAGE = "quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z"
OWNER_LABEL = "kemu.tests.owner-pid"
#: Settings of the embedded broker that concern listeners, storage and identity: the container sets its own.
_LAYOUT_KEYS = {
    "process.roles",
    "node.id",
    "controller.quorum.voters",
    "listeners",
    "advertised.listeners",
    "controller.listener.names",
    "inter.broker.listener.name",
    "listener.security.protocol.map",
    "log.dirs",
}
_START_TIMEOUT_S = 180


class ContainersError(RuntimeError):
    """Docker answered, but the services could not be had from it; the message names the cause."""


@dataclass(frozen=True)
class ContainerServices:
    kafka_bootstrap: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    images: tuple[str, str]


def kafka_environment(host_port: int) -> dict[str, str]:
    """The image's ``KAFKA_*`` variables: the embedded broker's settings (one source for both, so a test behaves
    the same on either), with a listener for the host on ``host_port`` and one inside the container."""
    env: dict[str, str] = {}
    embedded = render_server_properties(port=9092, controller_port=9093, log_dir=Path("/var/lib/kafka/data"))
    for line in embedded.splitlines():
        key, _, value = line.partition("=")
        if key and key not in _LAYOUT_KEYS:
            env["KAFKA_" + key.replace("-", "___").replace("_", "__").replace(".", "_").upper()] = value
    env.update(
        {
            "KAFKA_NODE_ID": "1",
            "KAFKA_PROCESS_ROLES": "broker,controller",
            "KAFKA_LISTENERS": "PLAINTEXT://:19092,CONTROLLER://:9093,PLAINTEXT_HOST://:9092",
            "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://localhost:19092,PLAINTEXT_HOST://{LOOPBACK}:{host_port}",
            "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT",
            "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
            "KAFKA_INTER_BROKER_LISTENER_NAME": "PLAINTEXT",
            "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
        }
    )
    return env


def _loopback_only() -> None:
    """Reach containers on 127.0.0.1 where their ports are published, never through a gateway address.

    Inside a container testcontainers would otherwise aim at the default gateway; the ports are bound to loopback
    only, and traffic to any other address is not what a local test should send. A user's own TC_HOST or
    TESTCONTAINERS_CONNECTION_MODE still wins."""
    from testcontainers.core.config import ConnectionMode, testcontainers_config

    testcontainers_config.ryuk_disabled = True
    if not testcontainers_config.tc_host_override:
        testcontainers_config.tc_host_override = LOOPBACK
    if testcontainers_config.connection_mode_override is None:
        testcontainers_config.connection_mode_override = ConnectionMode.docker_host


def _publish_on_loopback(container: DockerContainer, port: int, host_port: int) -> None:
    # with_bind_ports takes no address, and a port published on every interface is reachable from the network.
    container.ports[f"{port}/tcp"] = (LOOPBACK, host_port)


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs (a session that owns containers or a compose project)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_orphans() -> list[str]:
    """Remove the containers of test sessions that are gone; returns their names."""
    from testcontainers.core.docker_client import DockerClient

    client = DockerClient().client
    removed: list[str] = []
    try:
        for container in client.containers.list(all=True, filters={"label": OWNER_LABEL}):
            owner = container.labels.get(OWNER_LABEL, "")
            if owner.isdigit() and not pid_alive(int(owner)):
                container.remove(force=True, v=True)
                removed.append(container.name)
    finally:
        client.close()
    return removed


@contextlib.contextmanager
def containers(kafka_image: str = KAFKA_IMAGE, minio_image: str = MINIO_IMAGE) -> Iterator[ContainerServices]:
    """Start Kafka and MinIO containers; raises :class:`ContainersError` naming the cause when one cannot start."""
    from testcontainers.core.wait_strategies import HttpWaitStrategy, LogMessageWaitStrategy

    _loopback_only()
    reap_orphans()
    labels = {OWNER_LABEL: str(os.getpid())}
    kafka_port, minio_port = free_port(), free_port()
    kafka = (
        DockerContainer(kafka_image)
        .with_kwargs(labels=labels)
        .waiting_for(LogMessageWaitStrategy("Kafka Server started").with_startup_timeout(_START_TIMEOUT_S))
    )
    for key, value in kafka_environment(kafka_port).items():
        kafka = kafka.with_env(key, value)
    _publish_on_loopback(kafka, 9092, kafka_port)
    access_key, secret_key = "kemu-" + secrets.token_hex(4), secrets.token_urlsafe(24)
    minio = (
        DockerContainer(minio_image)
        .with_command("server /data")
        .with_env("MINIO_ROOT_USER", access_key)
        .with_env("MINIO_ROOT_PASSWORD", secret_key)
        .with_kwargs(labels=labels)
        .waiting_for(HttpWaitStrategy(9000, "/minio/health/live").with_startup_timeout(_START_TIMEOUT_S))
    )
    _publish_on_loopback(minio, 9000, minio_port)
    with contextlib.ExitStack() as stack:
        for container, image in ((kafka, kafka_image), (minio, minio_image)):
            try:
                stack.enter_context(container)
            except Exception as exc:
                raise ContainersError(f"the {image} container could not start: {type(exc).__name__}: {exc}") from exc
        yield ContainerServices(
            kafka_bootstrap=f"{LOOPBACK}:{kafka_port}",
            s3_endpoint=f"http://{LOOPBACK}:{minio_port}",
            s3_access_key=access_key,
            s3_secret_key=secret_key,
            images=(kafka_image, minio_image),
        )


def make_bucket(services: ContainerServices, bucket: str) -> None:
    ensure_bucket(s3_client(services.s3_endpoint, services.s3_access_key, services.s3_secret_key), bucket)
