"""The root Typer application and the state every subcommand shares (the settings, read once)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from emulator.exceptions import ConfigurationError
from emulator.logs import setup_logging
from emulator.settings import Settings
from emulator.version import installed_version

console = Console(stderr=True)


def print_error(message: str) -> None:
    """One line on stderr, never wrapped: scripts and people both read the first line of an error."""
    # The message is text, not markup: "[a-z0-9]" in it must print as written, not vanish as a style tag.
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


app = typer.Typer(
    name="kemu",
    help="A local Kinesis-style streaming-analytics emulator on Kafka, DuckDB and MinIO.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Click's contexts inherit this, so every subcommand takes -h too.
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"kemu {installed_version()}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", envvar="KEMU_CONFIG", help="TOML file with settings (env vars KEMU_* win over it)."),
    ] = None,
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Read the settings once for whichever subcommand runs."""
    try:
        ctx.obj = Settings.load(config)
    except (ValidationError, FileNotFoundError) as exc:
        raise ConfigurationError(f"invalid settings: {exc}") from exc
    setup_logging(ctx.obj.log_level, ctx.obj.log_format, console)


def settings_of(ctx: typer.Context) -> Settings:
    settings = ctx.find_root().obj
    if not isinstance(settings, Settings):  # pragma: no cover - the root callback always sets it
        raise ConfigurationError("settings were not loaded")
    return settings
