"""``kemu``: the command line of the Kinesis emulator. Each subcommand group lives in its own module."""

from __future__ import annotations

import signal
import sys
from types import FrameType

import typer

from emulator.cli import api as _api  # noqa: F401 - registers `kemu api`
from emulator.cli import demo as _demo  # noqa: F401 - registers `kemu up`
from emulator.cli import pipeline as _pipeline  # noqa: F401 - registers the hidden `kemu pipeline-component`
from emulator.cli import sql as _sql  # noqa: F401 - registers `kemu sql`
from emulator.cli.analytics import analytics_app
from emulator.cli.app import app, console, print_error
from emulator.cli.kinesis import kinesis_app
from emulator.cli.lake import lake_app
from emulator.cli.produce import produce_app
from emulator.cli.services import services_app
from emulator.cli.sink import sink_app
from emulator.exceptions import EmulatorError

app.add_typer(services_app, name="services")
app.add_typer(kinesis_app, name="kinesis")
app.add_typer(produce_app, name="produce")
app.add_typer(sink_app, name="sink")
app.add_typer(analytics_app, name="analytics")
app.add_typer(lake_app, name="lake")

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: run the CLI; a known error becomes one line on stderr and exit code 1, never a traceback."""
    _interrupt_on_sigint_and_sigterm()
    try:
        result = app(standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        console.print("interrupted")
        sys.exit(130)
    except typer.TyperException as exc:
        # Typer's (vendored click) usage errors. Click would print a usage box; one line that names the problem
        # and where to find help reads better.
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            typer.echo(ctx.get_help())
            sys.exit(0)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        print_error(f"{message}{hint}")
        sys.exit(getattr(exc, "exit_code", 2))
    except EmulatorError as exc:
        print_error(str(exc))
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _interrupt_on_sigint_and_sigterm() -> None:
    """Ctrl-C and SIGTERM both unwind through the commands' cleanup, so no started service is left behind.

    SIGINT is set explicitly because a shell without job control starts background commands with it ignored,
    and Python keeps an inherited "ignore" instead of raising KeyboardInterrupt.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)
