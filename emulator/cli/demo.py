"""``kemu up``: the whole demo in one supervised process, stopped with Ctrl-C."""

from __future__ import annotations

import time

import typer

from emulator.cli.app import app, console, settings_of
from emulator.cli.kinesis import start_kinesis_api
from emulator.cli.reporting import ConsoleReporter
from emulator.cli.services import launcher_for, print_addresses


@app.command("up")
def up(ctx: typer.Context) -> None:
    """Start the embedded Kafka and MinIO (unless settings point elsewhere) and run the demo until Ctrl-C."""
    settings = settings_of(ctx)
    started = time.monotonic()
    with ConsoleReporter(console) as reporter:
        services = launcher_for(settings, reporter)
        try:
            state = services.start()
        except KeyboardInterrupt:
            console.print("interrupted: stopped what had started")
            raise typer.Exit(130) from None
    kinesis = start_kinesis_api(settings, state.kafka.bootstrap_servers, services)
    try:
        console.print(f"[green]ready[/] in {time.monotonic() - started:.1f} s; press Ctrl-C to stop", highlight=False)
        print_addresses(state)
        while True:
            time.sleep(1.0)
            if services.running_state() is None:
                console.print(f"[red]a service exited[/]; see the logs under {services.run_dir}")
                raise typer.Exit(1)
    except KeyboardInterrupt:
        pass
    finally:
        console.print("stopping")
        kinesis.stop()
        services.stop()
