"""``kemu``: the command line of the Kinesis emulator. Each subcommand group lives in its own module."""

from __future__ import annotations

import sys

from emulator.cli import demo as _demo  # noqa: F401 - registers `kemu up`
from emulator.cli.analytics import analytics_app
from emulator.cli.app import app, console
from emulator.cli.services import services_app
from emulator.exceptions import EmulatorError

app.add_typer(services_app, name="services")
app.add_typer(analytics_app, name="analytics")

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: run the CLI; a known error becomes one line on stderr and exit code 1, never a traceback."""
    try:
        app(standalone_mode=True)
    except EmulatorError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(1)
