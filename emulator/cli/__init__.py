"""``kemu``: the command line of the Kinesis emulator. Each subcommand group lives in its own module."""

from __future__ import annotations

import signal
import sys
from types import FrameType

from emulator.cli import demo as _demo  # noqa: F401 - registers `kemu up`
from emulator.cli.app import app, console
from emulator.cli.kinesis import kinesis_app
from emulator.cli.produce import produce_app
from emulator.cli.services import services_app
from emulator.exceptions import EmulatorError

app.add_typer(services_app, name="services")
app.add_typer(kinesis_app, name="kinesis")
app.add_typer(produce_app, name="produce")

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: run the CLI; a known error becomes one line on stderr and exit code 1, never a traceback."""
    _interrupt_on_sigint_and_sigterm()
    try:
        app(standalone_mode=True)
    except EmulatorError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(1)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _interrupt_on_sigint_and_sigterm() -> None:
    """Ctrl-C and SIGTERM both unwind through the commands' cleanup, so no started service is left behind.

    SIGINT is set explicitly because a shell without job control starts background commands with it ignored,
    and Python keeps an inherited "ignore" instead of raising KeyboardInterrupt.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)
