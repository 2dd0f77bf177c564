"""The command line's edges a new user meets in the first hour: version and short help, help text as plain text,
missing query directories, a busy port, and the Go hint."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import typer.main

from emulator.cli import app
from emulator.exceptions import MissingToolError
from emulator.services.tools import require_tool

KEMU = Path(sys.executable).parent / "kemu"


def run_kemu(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KEMU), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def test_version_prints_the_installed_version() -> None:
    done = run_kemu("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"kemu {version('kemu')}"


@pytest.mark.parametrize("args", [["-h"], ["services", "-h"], ["kinesis", "serve", "-h"], ["produce", "game", "-h"]])
def test_short_help_works_everywhere(args: list[str]) -> None:
    done = run_kemu(*args)
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout
    assert "--help" in done.stdout


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command under ``command`` (Typer vendors its own Click, so groups are found by their ``commands``)."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def test_no_help_text_shows_rst_markup() -> None:
    """Docstrings use RST literals for Sphinx-style readers; what ``--help`` shows must be plain text."""
    root = typer.main.get_command(app)
    checked = 0
    for path, command in _commands(root):
        if command.hidden:
            continue
        done = run_kemu(*path, "--help")
        assert done.returncode == 0, (path, done.stderr)
        assert "``" not in done.stdout, f"kemu {' '.join(path)} --help shows RST markup:\n{done.stdout}"
        checked += 1
    assert checked > 15


def test_a_missing_query_directory_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent" / "dir"
    done = run_kemu("analytics", "list", "--queries", str(missing))
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(missing) in lines[0]
    assert "does not exist" in lines[0]


def test_a_query_directory_that_is_a_file_is_an_error(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "query.sql"
    not_a_dir.write_text("SELECT 1")
    done = run_kemu("analytics", "list", "--queries", str(not_a_dir))
    assert done.returncode != 0
    assert "not a directory" in done.stderr


def test_a_missing_query_directory_in_the_settings_is_an_error(tmp_path: Path) -> None:
    done = run_kemu("analytics", "list", env={"KEMU_ANALYTICS__QUERY_DIRS": f'["{tmp_path / "gone"}"]'})
    assert done.returncode != 0
    assert "does not exist" in done.stderr


def test_kinesis_serve_on_a_busy_port_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # Any bootstrap address will do: the port is checked before Kafka is contacted.
        done = run_kemu("kinesis", "serve", "--port", str(port), env={"KEMU_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:9"})
    assert done.returncode == 1
    output = (done.stdout + done.stderr).strip().splitlines()
    assert len(output) == 1, done.stdout + done.stderr
    assert output[0].startswith("error: cannot listen on 127.0.0.1:")
    assert "--port" in output[0]


def test_the_go_hint_does_not_send_debian_users_to_an_old_go(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(MissingToolError) as info:
        require_tool("go", "to build the embedded MinIO server from its Go module")
    message = str(info.value)
    assert "Debian's golang package" not in message
    assert "go.dev" in message
    assert "golang-1.24" in message or "bookworm-backports" in message
