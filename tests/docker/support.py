"""Driving the Docker engine and compose from the Docker tests: which compose command exists, and a project that
is always taken down."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from emulator.services.ports import free_port
from tests.support.containers import pid_alive
from tests.support.endpoints import docker_answers, docker_host

ROOT = Path(__file__).resolve().parents[2]
PROJECT_PREFIX = "kemu-e2e-"
HOW_TO_GET_DOCKER = (
    "The Docker tests need a Docker engine (DOCKER_HOST={host}) with the pinned images: "
    "`tests/docker/engine.sh start` runs one, `tests/docker/build-standins.sh` builds local stand-ins of the images "
    "where no registry is reachable."
)


def require_docker() -> None:
    if not docker_answers():
        raise RuntimeError(HOW_TO_GET_DOCKER.format(host=docker_host()))


def compose_command() -> list[str]:
    """``docker compose`` where the v2 plugin is installed, else ``docker-compose`` (v1): the README names both."""
    plugin = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, check=False)
    if plugin.returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise RuntimeError("neither `docker compose` nor `docker-compose` is installed (apt-get install docker-compose)")


def run(args: list[str], timeout_s: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout_s, check=False, env=env, cwd=ROOT)


def checked(args: list[str], timeout_s: float, env: dict[str, str] | None = None) -> str:
    result = run(args, timeout_s, env)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@dataclass
class ComposeProject:
    """One compose project of the repository's docker-compose.yml on free loopback ports."""

    command: list[str]
    # The pid lets a later session take down the project of one that was killed (see remove_orphaned_projects).
    name: str = field(default_factory=lambda: f"{PROJECT_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:6]}")
    ports: dict[str, int] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    #: Unnamed volumes of the project's containers (images declare some, e.g. Kafka's /mnt/shared/config): `down`
    #: leaves them behind, so they are noted before each `down` and removed at the end.
    anonymous: set[str] = field(default_factory=set)

    def __call__(self, *args: str, timeout_s: float = 300) -> str:
        if args and args[0] == "down":
            self.note_anonymous_volumes()
        return checked(
            [*self.command, "-p", self.name, "-f", str(ROOT / "docker-compose.yml"), *args], timeout_s, self.env
        )

    def note_anonymous_volumes(self) -> None:
        label = f"label=com.docker.compose.project={self.name}"
        listed = run(["docker", "ps", "-a", "-q", "--filter", label], 30, self.env)
        template = '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}'
        for cid in listed.stdout.split():
            mounts = run(["docker", "inspect", "--format", template, cid], 30, self.env)
            self.anonymous.update(name for name in mounts.stdout.split() if not name.startswith(f"{self.name}_"))

    def container(self, service: str) -> str:
        return self("ps", "-q", service).strip()

    def health(self, service: str) -> str:
        cid = self.container(service)
        if not cid:
            return "absent"
        return checked(["docker", "inspect", "--format", "{{.State.Health.Status}}", cid], 30, self.env).strip()

    def wait_healthy(self, service: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        status = "absent"
        while time.monotonic() < deadline:
            status = self.health(service)
            if status == "healthy":
                return
            time.sleep(3)
        logs = run(
            [*self.command, "-p", self.name, "-f", str(ROOT / "docker-compose.yml"), "logs", "--tail", "60"],
            60,
            self.env,
        )
        raise AssertionError(f"{service} is {status!r} after {timeout_s:.0f} s; logs:\n{logs.stdout}{logs.stderr}")

    def volumes(self) -> list[str]:
        out = checked(
            ["docker", "volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={self.name}"], 30, self.env
        )
        return sorted(out.split())


def remove_orphaned_projects(command: list[str], env: dict[str, str]) -> None:
    """``down -v`` the test projects whose session no longer runs: their containers, volumes and ports."""
    out = checked(["docker", "ps", "-a", "--format", '{{.Label "com.docker.compose.project"}}'], 30, env) + checked(
        ["docker", "volume", "ls", "--format", '{{.Label "com.docker.compose.project"}}'], 30, env
    )
    for name in sorted(set(out.split())):
        owner = name.removeprefix(PROJECT_PREFIX).split("-", 1)[0]
        if name.startswith(PROJECT_PREFIX) and owner.isdigit() and not pid_alive(int(owner)):
            run(
                [*command, "-p", name, "-f", str(ROOT / "docker-compose.yml"), "down", "-v", "--timeout", "10"],
                300,
                env,
            )

    return True


@contextmanager
def compose_project(base_env: dict[str, str], password: str) -> Iterator[ComposeProject]:
    """A project with its own name and ports (the defaults 8000, 4566, 9092, 9000, 9001 may be taken by a running
    kemu), taken down with its volumes whatever happens."""
    require_docker()
    ports = {name: free_port() for name in ("api", "kinesis", "kafka", "minio", "minio_console")}
    env = {
        **base_env,
        "KEMU_API_PORT": str(ports["api"]),
        "KEMU_KINESIS_PORT": str(ports["kinesis"]),
        "KEMU_KAFKA_PORT": str(ports["kafka"]),
        "KEMU_MINIO_PORT": str(ports["minio"]),
        "KEMU_MINIO_CONSOLE_PORT": str(ports["minio_console"]),
        "MINIO_ROOT_USER": "kemu-e2e",
        "MINIO_ROOT_PASSWORD": password,
    }
    project = ComposeProject(compose_command(), ports=ports, env=env)
    remove_orphaned_projects(project.command, env)
    try:
        yield project
    finally:
        project.note_anonymous_volumes()
        compose_file = str(ROOT / "docker-compose.yml")
        down = ["down", "-v", "--remove-orphans", "--timeout", "30"]
        run([*project.command, "-p", project.name, "-f", compose_file, *down], 300, env)
        if project.anonymous:
            run(["docker", "volume", "rm", *sorted(project.anonymous)], 120, env)
