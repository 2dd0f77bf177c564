"""`kemu services up | status | down` as a user runs them: real processes, real ports, nothing left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from emulator.services.ports import is_listening


def kemu(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )


def isolated_env(run_dir: Path) -> dict[str, str]:
    """The user's cache (binaries) but a run directory of this test's own (data, pids, addresses)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEMU_")}
    env["KEMU_SERVICES__RUN_DIR"] = str(run_dir)
    return env


def recorded(run_dir: Path) -> tuple[list[int], list[int]]:
    state = json.loads((run_dir / "services.json").read_text())
    pids = [state["kafka"]["process"]["pid"], state["minio"]["process"]["pid"]]
    ports = [
        state["kafka"]["port"],
        state["kafka"]["controller_port"],
        state["minio"]["port"],
        state["minio"]["console_port"],
    ]
    return pids, ports


def assert_nothing_left(pids: list[int], ports: list[int]) -> None:
    for pid in pids:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, f"pid {pid} alive"
    for port in ports:
        assert not is_listening(port), f"port {port} still open"


def test_up_status_down_leaves_no_process_and_no_port(tmp_path: Path) -> None:
    env = isolated_env(tmp_path / "run")
    started = time.monotonic()
    up = kemu("services", "up", env=env)
    assert up.returncode == 0, up.stderr
    print(f"\n[services] cold start of a new run dir (cache warm): {time.monotonic() - started:.1f} s")
    assert "services ready" in up.stderr
    pids, ports = recorded(tmp_path / "run")
    assert all(is_listening(port) for port in (ports[0], ports[2]))

    status = kemu("services", "status", env=env)
    assert status.returncode == 0, status.stderr
    assert status.stderr.count("running") == 2

    exports = kemu("services", "env", env=env)
    assert f"KEMU_KAFKA__BOOTSTRAP_SERVERS=127.0.0.1:{ports[0]}" in exports.stdout

    down = kemu("services", "down", env=env)
    assert down.returncode == 0, down.stderr
    assert "services stopped" in down.stderr
    assert_nothing_left(pids, ports)
    assert kemu("services", "status", env=env).returncode == 1

    # A second start keeps the data and, when they are free, the same addresses.
    started = time.monotonic()
    again = kemu("services", "up", env=env)
    assert again.returncode == 0, again.stderr
    print(f"[services] warm restart: {time.monotonic() - started:.1f} s")
    pids2, ports2 = recorded(tmp_path / "run")
    assert ports2 == ports
    assert kemu("services", "down", env=env).returncode == 0
    assert_nothing_left(pids2, ports2)


@pytest.mark.parametrize("when", ["while starting", "once ready"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_on_a_foreground_run_stops_both_services(tmp_path: Path, when: str, sig: signal.Signals) -> None:
    env = isolated_env(tmp_path / "run")
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "services", "up", "--foreground"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    seen: list[str] = []
    try:
        # Interrupt as soon as both processes exist (they are still starting), or after the ready message.
        wanted = "starting MinIO" if when == "while starting" else "press Ctrl-C"
        while not any(wanted in line for line in seen):
            line = proc.stderr.readline()
            assert line, "".join(seen)
            seen.append(line)
        if when == "while starting":
            time.sleep(0.5)  # MinIO's pid is recorded right after this line is printed
        pids, ports = recorded(tmp_path / "run")
        proc.send_signal(sig)
        _, rest = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = "".join(seen) + rest
    assert ("interrupted: stopped what had started" if when == "while starting" else "stopping services") in stderr
    assert proc.returncode in (0, 130), stderr
    assert_nothing_left(pids, ports)
