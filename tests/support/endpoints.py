"""Getting a real Kafka broker and a real S3 server for the integration tests.

``KEMU_TEST_SERVICES`` chooses the source; unset (``auto``), the documented order applies:

1. ``env``: addresses from the environment (``KEMU_KAFKA__BOOTSTRAP_SERVERS`` and ``KEMU_S3__ENDPOINT_URL`` with
   ``KEMU_S3__ACCESS_KEY_ID`` / ``KEMU_S3__SECRET_ACCESS_KEY``), read through the application's own settings;
2. ``docker``: testcontainers, when a Docker engine answers (``tests/support/containers.py``);
3. ``embedded``: the launcher of ``kemu services``, in a run directory of the test session's own.

A source that was asked for by name is the only one tried: when it fails, the session fails with its cause. In
``auto`` a Docker engine whose containers cannot start is reported and the embedded launcher is used instead.
"""

from __future__ import annotations

import contextlib
import enum
import os
import socket
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from emulator.services import LocalServices
from emulator.services.state import ServicesState
from emulator.settings import Settings
from sinks import S3Connection
from tests.support.containers import KAFKA_IMAGE, MINIO_IMAGE, containers, make_bucket

__all__ = [
    "KAFKA_IMAGE",
    "MINIO_IMAGE",
    "SOURCE_VARIABLE",
    "Endpoints",
    "ServicesUnavailable",
    "Source",
    "acquire",
    "launched",
    "planned_source",
    "requested_source",
]

TEST_BUCKET = "kemu-test"
SOURCE_VARIABLE = "KEMU_TEST_SERVICES"

HOW_TO_GET_SERVICES = (
    "Integration tests need a real Kafka broker and a real S3 server, and none could be had. Either set "
    "KEMU_KAFKA__BOOTSTRAP_SERVERS, KEMU_S3__ENDPOINT_URL, KEMU_S3__ACCESS_KEY_ID and KEMU_S3__SECRET_ACCESS_KEY; "
    "or start a Docker engine (testcontainers is used then); or install java, mvn and go so the embedded "
    "launcher can run (`kemu services provision` fetches and builds them once). "
    "KEMU_TEST_SERVICES=env|docker|embedded picks one. Cause: {cause}"
)


class Source(enum.StrEnum):
    AUTO = "auto"
    ENV = "env"
    DOCKER = "docker"
    EMBEDDED = "embedded"


class ServicesUnavailable(RuntimeError):
    """No Kafka and S3 could be had from the requested source; the message says why and what to do."""


@dataclass(frozen=True)
class Endpoints:
    """Where the session's services are, and how they were obtained (shown in the test report)."""

    kafka_bootstrap: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    s3_region: str
    bucket: str
    source: str

    def s3_connection(self) -> S3Connection:
        """The S3 server as the sinks and the Firehose API take it."""
        return S3Connection(
            endpoint_url=self.s3_endpoint,
            access_key_id=self.s3_access_key,
            secret_access_key=SecretStr(self.s3_secret_key),
            region=self.s3_region,
        )

    def settings_env(self) -> dict[str, str]:
        """The ``KEMU_*`` variables that point a child process (a benchmark, the CLI) at these services."""
        return {
            "KEMU_KAFKA__BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "KEMU_S3__ENDPOINT_URL": self.s3_endpoint,
            "KEMU_S3__ACCESS_KEY_ID": self.s3_access_key,
            "KEMU_S3__SECRET_ACCESS_KEY": self.s3_secret_key,
            "KEMU_S3__BUCKET": self.bucket,
        }


def requested_source(environ: Mapping[str, str]) -> Source:
    value = environ.get(SOURCE_VARIABLE, "").strip().lower() or Source.AUTO.value
    try:
        return Source(value)
    except ValueError:
        choices = "|".join(s.value for s in Source)
        raise ServicesUnavailable(f"{SOURCE_VARIABLE}={value!r} is not one of {choices}") from None


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


def docker_host() -> str:
    return os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")


def docker_answers() -> bool:
    """Whether a Docker engine answers ``/_ping``. Asked over a socket we close ourselves: docker-py leaks one
    when the engine is missing, which warnings-as-errors turns into a failure."""
    host = docker_host()
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


def planned_source(requested: Source, settings: Settings) -> Source:
    """What ``auto`` resolves to now (the report header says it before any service starts)."""
    if requested is not Source.AUTO:
        return requested
    if from_environment(settings) is not None:
        return Source.ENV
    return Source.DOCKER if docker_answers() else Source.EMBEDDED


@contextlib.contextmanager
def from_testcontainers(region: str) -> Iterator[Endpoints]:
    with containers() as services:
        make_bucket(services, TEST_BUCKET)
        yield Endpoints(
            kafka_bootstrap=services.kafka_bootstrap,
            s3_endpoint=services.s3_endpoint,
            s3_access_key=services.s3_access_key,
            s3_secret_key=services.s3_secret_key,
            s3_region=region,
            bucket=TEST_BUCKET,
            source=f"testcontainers ({', '.join(services.images)} on {docker_host()})",
        )


def launched(services: LocalServices, state: ServicesState, region: str, source: str) -> Endpoints:
    """The endpoints of the services ``services`` runs (``state``), with their credentials and bucket."""
    creds = services.credentials()
    return Endpoints(
        kafka_bootstrap=state.kafka.bootstrap_servers,
        s3_endpoint=state.minio.endpoint_url,
        s3_access_key=creds.access_key_id,
        s3_secret_key=creds.secret_access_key.get_secret_value(),
        s3_region=region,
        bucket=state.bucket,
        source=source,
    )


@contextlib.contextmanager
def from_local_launcher(settings: Settings, run_dir: Path) -> Iterator[Endpoints]:
    services = LocalServices(settings.services, bucket=TEST_BUCKET, run_dir=run_dir)
    with services as state:
        yield launched(services, state, settings.s3.region, f"embedded launcher (logs in {run_dir})")


@contextlib.contextmanager
def _entered(manager: contextlib.AbstractContextManager[Endpoints], failure: str) -> Iterator[Endpoints]:
    """Enter ``manager``, turning a failure to start into :class:`ServicesUnavailable` (errors in the tests that
    use the services pass through untouched)."""
    with contextlib.ExitStack() as stack:
        try:
            endpoints = stack.enter_context(manager)
        except Exception as exc:
            raise ServicesUnavailable(failure.format(cause=f"{type(exc).__name__}: {exc}")) from exc
        yield endpoints


@contextlib.contextmanager
def acquire(settings: Settings, run_dir: Path, requested: Source) -> Iterator[Endpoints]:
    """The services for one test session; raises :class:`ServicesUnavailable` saying why there are none."""
    source = planned_source(requested, settings)
    if source is Source.ENV:
        env = from_environment(settings)
        if env is None:
            raise ServicesUnavailable(
                f"{SOURCE_VARIABLE}=env, but KEMU_KAFKA__BOOTSTRAP_SERVERS, KEMU_S3__ENDPOINT_URL, "
                "KEMU_S3__ACCESS_KEY_ID and KEMU_S3__SECRET_ACCESS_KEY are not all set "
                '(`eval "$(.venv/bin/kemu services env)"` sets them for running embedded services)'
            )
        yield env
        return
    if source is Source.DOCKER:
        if requested is Source.DOCKER and not docker_answers():
            raise ServicesUnavailable(
                f"{SOURCE_VARIABLE}=docker, but no Docker engine answers at DOCKER_HOST={docker_host()} "
                "(tests/docker/engine.sh start runs one; tests/docker/build-standins.sh builds its images offline)"
            )
        try:
            with _entered(from_testcontainers(settings.s3.region), "testcontainers failed: {cause}") as found:
                yield found
            return
        except ServicesUnavailable as exc:
            if requested is Source.DOCKER:
                raise
            print(f"\n[services] {exc}; using the embedded launcher instead", file=sys.stderr)
    with _entered(from_local_launcher(settings, run_dir), HOW_TO_GET_SERVICES) as found:
        yield found
