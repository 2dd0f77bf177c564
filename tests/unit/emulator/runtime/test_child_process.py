"""Pipeline components in child processes: exit codes become failures, SIGTERM then SIGKILL on stop, stats from JSON
lines, the child's stderr logged under its name, settings and secrets through the environment only."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from analytics.config import AnalyticsConfig
from emulator.config.demo import DemoSettings
from emulator.endpoints import ResolvedEndpoints, S3Target
from emulator.runtime.child_process import (
    SETTINGS_ENV,
    ComponentProcessError,
    ProcessComponent,
    child_environment,
    pipeline_processes,
    settings_from_environment,
)
from emulator.settings import Settings
from emulator.supervision import RestartBackoff, State, Supervisor

SECRET = "s3cr3t-value-never-in-argv"  # noqa: S105 - a marker to look for, not a credential


def context(tmp_path: Path) -> ResolvedEndpoints:
    settings = Settings.load(
        demo=DemoSettings(game_rate=1234, clickstream_rate=0, iot_rate=7, pipeline_nice=5),
        analytics=AnalyticsConfig(checkpoint_dir=tmp_path / "ckpt", start_from="latest"),
        log_level="WARNING",
    )
    s3 = S3Target("http://127.0.0.1:9", "key-id", SecretStr(SECRET), "some-bucket", "eu-west-1")
    return ResolvedEndpoints(settings, "127.0.0.1:1", s3)


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def test_settings_reach_the_child_through_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = context(tmp_path)
    env = child_environment(ctx)
    assert env["KEMU_KAFKA__BOOTSTRAP_SERVERS"] == "127.0.0.1:1"
    assert env["KEMU_S3__SECRET_ACCESS_KEY"] == SECRET
    assert SECRET not in env[SETTINGS_ENV]  # S3 travels in its own variables, the JSON holds the rest
    for key in [k for k in os.environ if k.startswith("KEMU_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    rebuilt = settings_from_environment(os.environ)
    assert rebuilt.demo == ctx.settings.demo
    assert rebuilt.analytics == ctx.settings.analytics
    assert rebuilt.kafka.bootstrap_servers == "127.0.0.1:1"
    assert rebuilt.s3.secret_access_key is not None
    assert rebuilt.s3.secret_access_key.get_secret_value() == SECRET
    assert (rebuilt.s3.bucket, rebuilt.s3.region) == ("some-bucket", "eu-west-1")


def test_the_pipeline_becomes_one_process_per_component_in_the_supervisors_order(tmp_path: Path) -> None:
    components = pipeline_processes()(context(tmp_path))
    names = [c.name for c in components]
    assert names[0] == "kinesis-api"
    assert names.index("analytics") < names.index("producer-game")  # stopped in reverse: producers first
    assert "producer-iot" in names
    assert "producer-clickstream" not in names  # rate 0
    for component in components:
        assert isinstance(component, ProcessComponent)
        command = ProcessComponent.default_command(component.name, 5)
        assert "pipeline-component" in command
        assert SECRET not in " ".join(command)  # argv is visible to every user in `ps`


async def test_stats_are_the_childs_latest_json_line_and_its_stderr_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    child = ProcessComponent(
        "demo-child",
        {},
        command=python("""
            import sys
            print('{"events_out": 5, "lag": 2}', flush=True)
            print('{"events_out": 9, "lag": 0, "note": "x", "_info": {"stream": "game-events"}}', flush=True)
            print("INFO some.logger: working", file=sys.stderr, flush=True)
            print("error: RuntimeError: the broker went away", file=sys.stderr, flush=True)
            sys.exit(3)
        """),
    )
    with (
        caplog.at_level(logging.INFO, logger="emulator.runtime.child_process"),
        pytest.raises(ComponentProcessError, match=r"demo-child exited with code 3: RuntimeError: the broker"),
    ):
        await child.run()
    assert child.stats() == {"events_out": 9.0, "lag": 0.0}
    assert child.info() == {"stream": "game-events"}  # words beside the figures, for the live page
    lines = {(r.levelno, r.getMessage()) for r in caplog.records}
    assert (logging.INFO, "[demo-child] INFO some.logger: working") in lines
    assert (logging.ERROR, "[demo-child] error: RuntimeError: the broker went away") in lines


async def test_a_cancelled_component_gets_sigterm_and_its_clean_stop(tmp_path: Path) -> None:
    marker = tmp_path / "stopped"
    child = ProcessComponent(
        "graceful",
        {},
        command=python(f"""
            import signal, sys, time
            def stop(*_):
                open({str(marker)!r}, "w").write("flushed")
                sys.exit(0)
            signal.signal(signal.SIGTERM, stop)
            print('{{"ready": 1}}', flush=True)
            time.sleep(60)
        """),
    )
    task = asyncio.create_task(child.run())
    await wait_until_ready(child)  # its handler is installed
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert marker.read_text() == "flushed"
    assert not alive(child.pid)


async def test_a_child_that_ignores_sigterm_is_killed_after_the_bound(caplog: pytest.LogCaptureFixture) -> None:
    child = ProcessComponent(
        "stubborn",
        {},
        stop_timeout_s=0.5,
        command=python("""
            import signal, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            print('{"ready": 1}', flush=True)
            time.sleep(60)
        """),
    )
    task = asyncio.create_task(child.run())
    await wait_until_ready(child)  # SIGTERM is ignored from here on
    with caplog.at_level(logging.ERROR, logger="emulator.runtime.child_process"):
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    # The 60 s sleep ended early, and by the kill after the bound, not by SIGTERM.
    assert "stubborn did not stop within 0 s of SIGTERM; killing it" in caplog.messages
    assert not alive(child.pid)


async def test_the_supervisor_restarts_a_failing_child_with_backoff() -> None:
    child = ProcessComponent("crashy", {}, command=python("import sys; sys.exit('boom')"))
    async with Supervisor(backoff=RestartBackoff(initial_s=0.05, maximum_s=0.1)) as supervisor:
        supervisor.add(child)
        for _ in range(100):
            status = supervisor.status("crashy")
            if status is not None and status.restarts >= 2:
                break
            await asyncio.sleep(0.05)
    assert status is not None
    assert status.restarts >= 2
    assert status.state is State.STOPPED
    assert status.last_error is not None
    assert "crashy exited with code 1: boom" in status.last_error


def test_the_child_entry_reports_an_unknown_component_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEMU_")}
    env.update(child_environment(context(tmp_path)))
    completed = subprocess.run(
        [sys.executable, "-m", "emulator", "pipeline-component", "no-such-thing", "--nice", "3"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 1
    assert "no pipeline component named 'no-such-thing'" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_a_child_dies_with_its_parent() -> None:
    """The parent is killed with SIGKILL (no chance to stop anything): the kernel's SIGTERM ends the child."""
    parent = subprocess.Popen(
        python("""
            import os, subprocess, sys, time
            child = subprocess.Popen([sys.executable, "-c",
                "import os, time; from emulator.runtime.child_side import die_with_parent; "
                "die_with_parent(os.getppid()); print('armed', flush=True); time.sleep(60)"],
                stdout=subprocess.PIPE, text=True)
            child.stdout.readline()
            print(child.pid, flush=True)
            time.sleep(60)
        """),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    assert alive(child_pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    parent.stdout.close()
    deadline = time.monotonic() + 10
    while alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child_pid)


async def wait_until_ready(child: ProcessComponent) -> None:
    """Until the child's ``{"ready": 1}`` line arrives (it prints it once its signal handling is set)."""
    deadline = time.monotonic() + 60
    while child.stats().get("ready") != 1:
        if time.monotonic() > deadline:
            raise AssertionError("the child did not say it was ready")
        await asyncio.sleep(0.01)


def alive(pid: int | None) -> bool:
    """Running (a zombie waiting for its reaper counts as gone)."""
    if pid is None:
        return False
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    state = next(line for line in status.splitlines() if line.startswith("State:"))
    return "zombie" not in state and " Z" not in state
