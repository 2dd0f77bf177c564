"""``kemu services up | down | status | env``: the embedded Kafka and MinIO."""

from __future__ import annotations

import shlex
import time
from typing import Annotated

import typer
from rich.table import Table

from emulator.aws_env import aws_exports
from emulator.cli.app import console, settings_of
from emulator.cli.reporting import ConsoleReporter
from emulator.endpoints import launcher_for
from emulator.exceptions import ServicesNotRunningError
from emulator.services.state import ServicesState

services_app = typer.Typer(
    help="Run a real Kafka broker and a real MinIO locally, without Docker.", no_args_is_help=True
)


def print_addresses(state: ServicesState) -> None:
    console.print(f"  Kafka bootstrap  [bold]{state.kafka.bootstrap_servers}[/]", highlight=False)
    console.print(f"  S3 endpoint      [bold]{state.minio.endpoint_url}[/]  bucket {state.bucket}", highlight=False)
    console.print(f"  MinIO console    {state.minio.console_url}", highlight=False)
    console.print("  credentials      `kemu services env` prints them as shell exports", highlight=False)


@services_app.command("up")
def up(
    ctx: typer.Context,
    foreground: Annotated[
        bool, typer.Option("--foreground", help="Stay attached; Ctrl-C stops both services.")
    ] = False,
) -> None:
    """Provision (first time only) and start Kafka and MinIO on free loopback ports."""
    settings = settings_of(ctx)
    started = time.monotonic()
    with ConsoleReporter(console) as reporter:
        services = launcher_for(settings, reporter)
        try:
            state = services.start()
        except KeyboardInterrupt:
            console.print("interrupted: stopped what had started")
            raise typer.Exit(130) from None
    ready = f"[green]services ready[/] in {time.monotonic() - started:.1f} s"
    if not foreground:
        console.print(ready, highlight=False)
        print_addresses(state)
        console.print("stop them with `kemu services down`")
        return
    try:
        # Everything after the start sits inside the try, so a signal at any moment still reaches the cleanup.
        console.print(ready, highlight=False)
        print_addresses(state)
        console.print("press Ctrl-C to stop")
        while True:
            time.sleep(1.0)
            if services.running_state() is None:
                console.print("[red]a service exited[/]; see the logs under " + str(services.run_dir))
                break
    except KeyboardInterrupt:
        pass
    finally:
        console.print("stopping services")
        services.stop()


@services_app.command("down")
def down(
    ctx: typer.Context,
    purge: Annotated[bool, typer.Option("--purge", help="Also delete their data (topics and objects).")] = False,
) -> None:
    """Stop the embedded Kafka and MinIO."""
    services = launcher_for(settings_of(ctx))
    if purge:
        services.purge()
        console.print("services stopped and their data deleted")
    elif services.stop():
        console.print("services stopped")
    else:
        console.print("no services were running")


@services_app.command("status")
def status(ctx: typer.Context) -> None:
    """Show whether Kafka and MinIO run, and where. Exit code 1 when either is down."""
    services = launcher_for(settings_of(ctx))
    table = Table("service", "state", "address", "pid")
    rows = services.status()
    for row in rows:
        table.add_row(
            row.name,
            "[green]running[/]" if row.running else "[red]stopped[/]",
            row.address or "-",
            str(row.pid or "-"),
        )
    console.print(table)
    if not all(row.running for row in rows):
        raise typer.Exit(1)


@services_app.command("env")
def env(ctx: typer.Context) -> None:
    """Print shell exports that point kemu, boto3 and the aws-cli at the running services (includes MinIO's secret).

    Use it as eval "$(kemu services env)". The AWS variables point every SDK at kemu's endpoint (Kinesis, Firehose
    and S3 on 127.0.0.1:4566, served by kemu up or kemu kinesis serve) and keep a region and keys you already set.
    """
    settings = settings_of(ctx)
    services = launcher_for(settings)
    state = services.running_state()
    if state is None:
        raise ServicesNotRunningError("the services are not running; start them with `kemu services up`")
    creds = services.credentials()
    exports = {
        "KEMU_KAFKA__BOOTSTRAP_SERVERS": state.kafka.bootstrap_servers,
        "KEMU_S3__ENDPOINT_URL": state.minio.endpoint_url,
        "KEMU_S3__ACCESS_KEY_ID": creds.access_key_id,
        "KEMU_S3__SECRET_ACCESS_KEY": creds.secret_access_key.get_secret_value(),
    }
    for key, value in exports.items():
        typer.echo(f"export {key}={shlex.quote(value)}")
    typer.echo("# AWS SDKs and the aws-cli: Kinesis, Firehose and S3 on kemu's endpoint (kemu up, kemu kinesis serve)")
    for line in aws_exports(settings.kinesis, settings.s3.region):
        typer.echo(line)


@services_app.command("provision")
def provision(ctx: typer.Context) -> None:
    """Download Kafka and build MinIO into the cache without starting them (CI and image builds use this)."""
    started = time.monotonic()
    with ConsoleReporter(console) as reporter:
        launcher_for(settings_of(ctx), reporter).provision()
    console.print(f"[green]provisioned[/] in {time.monotonic() - started:.1f} s", highlight=False)
