"""Starting and stopping the service processes, by pid, safely across invocations of the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil
from pydantic import BaseModel, ConfigDict

# Popen objects of the children this process started: kept so they are reaped (no zombie, no "still running"
# ResourceWarning when they would be collected) and polled directly. A later CLI invocation has only the pid.
_children: dict[int, subprocess.Popen[bytes]] = {}


class ProcessRef(BaseModel):
    """A process we started. The creation time guards against killing an unrelated process that reused the pid."""

    model_config = ConfigDict(frozen=True)

    pid: int
    create_time: float

    def handle(self) -> psutil.Process | None:
        try:
            proc = psutil.Process(self.pid)
            if abs(proc.create_time() - self.create_time) > 0.01 or proc.status() == psutil.STATUS_ZOMBIE:
                return None
            return proc
        except psutil.Error:
            return None

    def is_alive(self) -> bool:
        return self.handle() is not None


def spawn(
    args: Sequence[str], log_file: Path, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> ProcessRef:
    """Start ``args`` in its own session (so a Ctrl-C in the terminal reaches us, not it), output to ``log_file``."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        proc = subprocess.Popen(  # noqa: S603 - args are built by us from resolved tool paths, never a shell
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    _children[proc.pid] = proc
    return ProcessRef(pid=proc.pid, create_time=psutil.Process(proc.pid).create_time())


def exited_early(ref: ProcessRef) -> int | None:
    """The exit code if ``ref`` has exited, else ``None``; -1 when it is not our child and we cannot know it."""
    child = _children.get(ref.pid)
    if child is not None:
        return child.poll()
    return None if ref.is_alive() else -1


def stop(ref: ProcessRef, grace_s: float = 20.0) -> None:
    """SIGTERM, then SIGKILL after ``grace_s``; the whole process group, so no child is left behind."""
    proc = ref.handle()
    if proc is None:
        return
    _signal_group(ref.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except psutil.TimeoutExpired:
        _signal_group(ref.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except psutil.NoSuchProcess:
        pass
    child = _children.pop(ref.pid, None)
    if child is not None:
        child.wait(timeout=5)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, sig)
