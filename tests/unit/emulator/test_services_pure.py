"""The launcher's pure parts: broker configuration, cluster ids, ports, and what a user sees when a tool is missing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.exceptions import MissingToolError
from emulator.services.kafka import new_cluster_id, render_server_properties
from emulator.services.ports import free_port, pick_ports, port_is_free
from emulator.services.tools import require_tool


def test_server_properties_are_a_single_loopback_kraft_node(tmp_path: Path) -> None:
    props = dict(line.split("=", 1) for line in render_server_properties(9092, 9093, tmp_path / "data").splitlines())
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9092"
    assert props["log.dirs"] == str(tmp_path / "data")
    for internal in ("offsets.topic", "transaction.state.log", "share.coordinator.state.topic"):
        assert props[f"{internal}.replication.factor"] == "1"


def test_cluster_ids_are_urlsafe_base64_of_16_bytes() -> None:
    for _ in range(200):
        cid = new_cluster_id()
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cid)
        assert not cid.startswith("-")


def test_pick_ports_reuses_free_preferred_ports_and_replaces_taken_sets() -> None:
    preferred = [free_port(), free_port()]
    assert pick_ports(2, preferred) == preferred or not all(port_is_free(p) for p in preferred)
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        ports = pick_ports(2, [busy, preferred[0]])
    assert busy not in ports
    assert len(set(ports)) == 2


def test_missing_tool_says_what_to_install_and_the_alternatives(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(MissingToolError) as info:
        require_tool("go", "to build the embedded MinIO server from its Go module")
    message = str(info.value)
    assert "`go` is needed to build the embedded MinIO" in message
    assert "docker compose up" in message
    assert "KEMU_KAFKA__BOOTSTRAP_SERVERS" in message


def test_cli_reports_a_missing_tool_in_one_line_without_traceback(tmp_path: Path) -> None:
    # An empty cache forces provisioning, and a PATH with only Python's own directory hides mvn, java and go.
    env = {
        "PATH": str(Path(sys.executable).parent),
        "HOME": str(tmp_path),
        "KEMU_SERVICES__CACHE_DIR": str(tmp_path / "cache"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "services", "up"],
        capture_output=True,
        text=True,
        env=env,
        cwd=os.getcwd(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "`mvn` is needed to download the Kafka broker's jars" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["services", "bogus"], "error: No such command 'bogus'. (see `"),
        (["produce", "game", "--nope"], "error: No such option: --nope"),
        (["--config", "/nonexistent/kemu.toml", "services", "status"], "error: invalid settings: config file"),
    ],
)
def test_bad_arguments_get_one_line_errors(args: list[str], expected: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "40"},  # a narrow terminal must not wrap the line either
    )
    assert result.returncode in (1, 2)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(expected)
