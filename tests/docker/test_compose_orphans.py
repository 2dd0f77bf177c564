"""A compose project left by a killed test session (its containers, volumes and ports) is taken down by the next."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.docker.support import (
    PROJECT_PREFIX,
    ROOT,
    checked,
    compose_command,
    remove_orphaned_projects,
    require_docker,
)


def test_a_killed_sessions_project_is_taken_down() -> None:
    require_docker()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    name = f"{PROJECT_PREFIX}{gone.stdout.strip()}-orphan"
    env = {**os.environ, "KEMU_MINIO_PORT": "0", "KEMU_MINIO_CONSOLE_PORT": "0"}
    command = compose_command()
    checked([*command, "-p", name, "-f", str(ROOT / "docker-compose.yml"), "up", "-d", "--no-deps", "minio"], 300, env)
    label = f"label=com.docker.compose.project={name}"
    assert checked(["docker", "ps", "-q", "--filter", label], 30).split()
    remove_orphaned_projects(command, env)
    assert checked(["docker", "ps", "-a", "-q", "--filter", label], 30).split() == []
    assert checked(["docker", "volume", "ls", "-q", "--filter", label], 30).split() == []
