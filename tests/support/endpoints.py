"""Getting a real Kafka broker and a real S3 server for the integration tests, in the documented order:

1. addresses from the environment (``KEMU_KAFKA__BOOTSTRAP_SERVERS`` and ``KEMU_S3__ENDPOINT_URL`` with
   ``KEMU_S3__ACCESS_KEY_ID`` / ``KEMU_S3__SECRET_ACCESS_KEY``), read through the application's own settings;
2. testcontainers, when a Docker engine answers;
3. the embedded launcher of ``kemu services``, in a run directory of the test session's own.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from emulator.services import LocalServices
from emulator.settings import Settings

KAFKA_IMAGE = "apache/kafka:4.1.1"
MINIO_IMAGE = "quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z"
TEST_BUCKET = "kemu-test"

HOW_TO_GET_SERVICES = (
    "Integration tests need a real Kafka broker and a real S3 server, and none could be had. Either set "
    "KEMU_KAFKA__BOOTSTRAP_SERVERS, KEMU_S3__ENDPOINT_URL, KEMU_S3__ACCESS_KEY_ID and KEMU_S3__SECRET_ACCESS_KEY; "
    "or start a Docker engine (testcontainers is used then); or install java, mvn and go so the embedded "
    "launcher can run (`kemu services provision` fetches and builds them once). Cause: {cause}"
)


@dataclass(frozen=True)
class Endpoints:
    """Where the session's services are, and how they were obtained (shown in the test report header)."""

    kafka_bootstrap: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    s3_region: str
    bucket: str
    source: str


def from_environment(settings: Settings) -> Endpoints | None:
    s3 = settings.s3
    if not (settings.kafka.bootstrap_servers and s3.endpoint_url and s3.access_key_id and s3.secret_access_key):
        return None
    return Endpoints(
        kafka_bootstrap=settings.kafka.bootstrap_servers,
        s3_endpoint=s3.endpoint_url,
        s3_access_key=s3.access_key_id,
        s3_secret_key=s3.secret_access_key.get_secret_value(),
        s3_region=s3.region,
        bucket=s3.bucket,
        source="environment",
    )


def docker_answers() -> bool:
    """Whether a Docker engine answers ``/_ping``. Asked over a socket we close ourselves: docker-py leaks one
    when the engine is missing, which warnings-as-errors turns into a failure."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        if host.startswith("unix://"):
            path = host.removeprefix("unix://")
            if not os.path.exists(path):
                return False
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(3)
            try:
                sock.connect(path)
            except OSError:
                sock.close()
                raise
        elif host.startswith("tcp://"):
            hostname, _, port = host.removeprefix("tcp://").partition(":")
            sock = socket.create_connection((hostname, int(port or 2375)), timeout=3)
        else:
            return False
        with sock:
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return b" 200 " in sock.recv(64)
    except OSError:
        return False


@contextlib.contextmanager
def from_testcontainers() -> Iterator[Endpoints]:
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs
    from testcontainers.minio import MinioContainer

    from emulator.services.ports import free_port

    host_port = free_port()
    # apache/kafka is not what testcontainers' KafkaContainer drives: a plain container with the host listener
    # advertised on a host port chosen up front.
    kafka = (
        DockerContainer(KAFKA_IMAGE)
        .with_bind_ports(9092, host_port)
        .with_env("KAFKA_NODE_ID", "1")
        .with_env("KAFKA_PROCESS_ROLES", "broker,controller")
        .with_env("KAFKA_LISTENERS", "PLAINTEXT://:19092,CONTROLLER://:9093,PLAINTEXT_HOST://:9092")
        .with_env(
            "KAFKA_ADVERTISED_LISTENERS",
            f"PLAINTEXT://localhost:19092,PLAINTEXT_HOST://127.0.0.1:{host_port}",
        )
        .with_env(
            "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
            "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT",
        )
        .with_env("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER")
        .with_env("KAFKA_INTER_BROKER_LISTENER_NAME", "PLAINTEXT")
        .with_env("KAFKA_CONTROLLER_QUORUM_VOTERS", "1@localhost:9093")
        .with_env("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
        .with_env("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
        .with_env("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
        .with_env("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0")
    )
    minio = MinioContainer(image=MINIO_IMAGE)
    with kafka, minio:
        wait_for_logs(kafka, "Kafka Server started", timeout=120)
        config = minio.get_config()
        minio.get_client().make_bucket(TEST_BUCKET)
        yield Endpoints(
            kafka_bootstrap=f"127.0.0.1:{host_port}",
            s3_endpoint=f"http://{config['endpoint']}",
            s3_access_key=config["access_key"],
            s3_secret_key=config["secret_key"],
            s3_region="us-east-1",
            bucket=TEST_BUCKET,
            source="testcontainers",
        )


@contextlib.contextmanager
def from_local_launcher(settings: Settings, run_dir: Path) -> Iterator[Endpoints]:
    services = LocalServices(settings.services, bucket=TEST_BUCKET, run_dir=run_dir)
    with services as state:
        creds = services.credentials()
        yield Endpoints(
            kafka_bootstrap=state.kafka.bootstrap_servers,
            s3_endpoint=state.minio.endpoint_url,
            s3_access_key=creds.access_key_id,
            s3_secret_key=creds.secret_access_key.get_secret_value(),
            s3_region=settings.s3.region,
            bucket=TEST_BUCKET,
            source=f"embedded launcher (logs in {run_dir})",
        )


@contextlib.contextmanager
def acquire(settings: Settings, run_dir: Path) -> Iterator[Endpoints]:
    """The services for one test session; raises ``RuntimeError`` with :data:`HOW_TO_GET_SERVICES` if none."""
    env = from_environment(settings)
    if env is not None:
        yield env
        return
    try:
        chosen = from_testcontainers() if docker_answers() else from_local_launcher(settings, run_dir)
        endpoints = chosen.__enter__()
    except Exception as exc:
        raise RuntimeError(HOW_TO_GET_SERVICES.format(cause=exc)) from exc
    try:
        yield endpoints
    finally:
        chosen.__exit__(None, None, None)
