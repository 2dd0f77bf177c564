"""``kemu up``: the whole demo in one supervised process, stopped with Ctrl-C."""

from __future__ import annotations

import asyncio
import gc
import time
from typing import TYPE_CHECKING, Annotated

import typer

from emulator.aws_env import aws_exports, edge_url
from emulator.cli.app import app, console, settings_of
from emulator.cli.reporting import ConsoleReporter
from emulator.cli.services import print_addresses
from emulator.endpoints import ResolvedEndpoints, configured_endpoints, embedded_endpoints, launcher_for
from emulator.logs import quiet_kafka_client
from emulator.services import LocalServices

if TYPE_CHECKING:
    from emulator.runtime.demo import Demo, DemoStatus
    from emulator.supervision import SupervisorEvent

PortOption = Annotated[int | None, typer.Option("--port", help="API port (default: settings, 8000; 0 picks one).")]


def print_event(event: SupervisorEvent) -> None:
    colour = "red" if event.kind == "failed" else "yellow"
    console.print(f"[{colour}]{event.component} {event.kind}[/]: {event.detail}", highlight=False)


def print_urls(demo: Demo, edge: bool = True) -> None:
    """Where everything is; ``edge``: whether this command serves the AWS endpoint (``kemu up`` does)."""
    settings = demo.context.settings
    console.print(f"  live page        [bold]{demo.url}/[/]", highlight=False)
    console.print(f"  API docs         {demo.url}/docs", highlight=False)
    console.print(f"  metrics          {demo.url}/metrics", highlight=False)
    if edge:
        console.print(
            f"  AWS endpoint     {edge_url(settings.kinesis)}  Kinesis, Firehose, S3; /_kemu/health", highlight=False
        )
    console.print(f"  Kafka bootstrap  {demo.context.kafka_bootstrap}", highlight=False)
    console.print(
        f"  MinIO (S3)       {demo.context.s3.endpoint_url}  bucket {demo.context.s3.bucket}", highlight=False
    )
    if edge:
        console.print("  boto3, the aws-cli and other AWS SDKs need no endpoint or region after:", highlight=False)
        for line in aws_exports(settings.kinesis, settings.s3.region, reveal_secret=False):
            console.print(f"    {line}", highlight=False, markup=False, soft_wrap=True)


def tune_gc_for_serving() -> None:
    """This process serves the API (the pipeline runs in children): the objects of start-up (modules, the app,
    settings) are frozen out of the collector's sight, so a full collection only walks what serving creates, and
    young collections run less often; both shorten and thin out the pauses a request can land in."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


async def run_demo(context: ResolvedEndpoints, port: int | None) -> None:
    from emulator.runtime.demo import Demo

    demo = Demo(context, on_event=print_event, port=port, create_topics=True)
    demo.install_signal_handlers()
    live = console.status("starting", spinner="dots") if console.is_terminal else None
    last_print = [0.0]

    def on_ready(d: Demo) -> None:
        tune_gc_for_serving()
        console.print("[green]running[/]; press Ctrl-C to stop", highlight=False)
        print_urls(d)
        if live is not None:
            live.start()

    def on_tick(status: DemoStatus) -> None:
        if live is not None:
            live.update(status.line())
        elif time.monotonic() - last_print[0] >= 15:  # no terminal (compose logs): a line now and then
            last_print[0] = time.monotonic()
            console.print(status.line(), highlight=False)

    try:
        await demo.run(on_ready, on_tick)
    finally:
        if live is not None:
            live.stop()


@app.command("up")
def up(ctx: typer.Context, port: PortOption = None) -> None:
    """Start Kafka and MinIO (embedded, unless settings point at others), the pipeline and the API; Ctrl-C stops."""
    settings = settings_of(ctx)
    quiet_kafka_client(settings.log_level)
    started = time.monotonic()
    context = configured_endpoints(settings)
    owned: LocalServices | None = None  # embedded services this command started, and so stops
    if context is None:
        launcher = launcher_for(settings)
        if launcher.running_state() is not None:  # from `kemu services up`: used, and left running on exit
            context = embedded_endpoints(settings, launcher, start=False)
        else:
            with ConsoleReporter(console) as reporter:
                owned = launcher_for(settings, reporter)
                try:
                    context = embedded_endpoints(settings, owned, start=True)
                except KeyboardInterrupt:
                    console.print("interrupted: stopped what had started")
                    raise typer.Exit(130) from None
            state = owned.running_state()
            if state is not None:
                print_addresses(state)
    console.print(f"[green]services ready[/] in {time.monotonic() - started:.1f} s", highlight=False)
    try:
        asyncio.run(run_demo(context, port))
    except KeyboardInterrupt:
        pass
    finally:
        console.print("stopping")
        if owned is not None:
            owned.stop()
    console.print("stopped")
