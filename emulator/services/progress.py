"""How the launcher tells its caller what it is doing, without knowing whether a terminal is watching."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol


class Reporter(Protocol):
    def step(self, message: str) -> None:
        """A new phase begins (``building MinIO``)."""

    def detail(self, message: str) -> None:
        """Progress inside the phase (the latest line a build printed)."""


class SilentReporter:
    def step(self, message: str) -> None:
        pass

    def detail(self, message: str) -> None:
        pass


def run_logged(
    args: Sequence[str],
    log_file: Path,
    reporter: Reporter,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    describe: Callable[[str, float], str] | None = None,
) -> int:
    """Run a long build step, copying each output line to ``log_file`` and to the reporter as it comes.

    ``describe(line, elapsed_s)``, when given, turns each line into what the reporter shows (a build's progress and
    time left); by default the reporter shows the line itself.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with (
        log_file.open("w") as log,
        subprocess.Popen(  # noqa: S603 - resolved tool paths, no shell
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            text=True,
        ) as proc,
    ):
        assert proc.stdout is not None  # noqa: S101 - guaranteed by stdout=PIPE
        for line in proc.stdout:
            log.write(line)
            log.flush()
            elapsed = time.monotonic() - started
            shown = describe(line, elapsed) if describe is not None else line.strip()[:100]
            reporter.detail(f"[{elapsed:5.0f} s] {shown}")
        return proc.wait()
