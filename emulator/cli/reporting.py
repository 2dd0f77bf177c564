"""Progress on the terminal for long steps (the first MinIO build takes minutes)."""

from __future__ import annotations

import time

from rich.console import Console
from rich.status import Status


class ConsoleReporter:
    """Prints each step with its elapsed time and keeps the latest detail line on a live spinner; without a
    terminal (CI logs, a pipe), where a spinner shows nothing, prints the latest detail every ``quiet_s`` seconds."""

    def __init__(self, console: Console, quiet_s: float = 30.0) -> None:
        self._console = console
        self._status: Status | None = None
        self._started = time.monotonic()
        self._quiet_s = quiet_s
        self._last_plain = self._started

    def __enter__(self) -> ConsoleReporter:
        self._status = self._console.status("starting", spinner="dots")
        self._status.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.stop()

    def step(self, message: str) -> None:
        self._console.print(f"[dim]{time.monotonic() - self._started:6.1f} s[/] {message}", highlight=False)
        if self._status is not None:
            self._status.update(message)

    def detail(self, message: str) -> None:
        if self._status is not None:
            self._status.update(message)
        if not self._console.is_terminal and time.monotonic() - self._last_plain >= self._quiet_s:
            self._last_plain = time.monotonic()
            self._console.print(f"         {message}", highlight=False, soft_wrap=True)
