"""``kemu sink run | list``: Firehose-like delivery of topics to Parquet objects in S3 (MinIO by default)."""

from __future__ import annotations

import asyncio
import signal
import time
from typing import TYPE_CHECKING, Annotated

import typer
from aiokafka.errors import KafkaError

from emulator.cli.app import console, settings_of
from emulator.endpoints import kafka_bootstrap, require_s3
from emulator.exceptions import ConfigurationError, EmulatorError
from producers import quiet_gc
from sinks import DeliveryStats, DeliveryStream, SinkError, StopRequested
from sinks.delivery import ALLOCATIONS_PER_POLL

if TYPE_CHECKING:
    from emulator.glue.registration import DeliveryCatalog

sink_app = typer.Typer(help="Deliver streams to S3 as Parquet, like Kinesis Data Firehose.", no_args_is_help=True)


class SinkRunError(EmulatorError):
    """A delivery stream stopped on an error it cannot retry past."""


def progress_line(stats: list[DeliveryStats], started: float) -> str:
    elapsed = max(time.monotonic() - started, 1e-9)
    records = sum(s.records_delivered for s in stats)
    parts = [
        f"{records:,} records ({records / elapsed:,.0f}/s)",
        f"{sum(s.objects for s in stats):,} objects",
        f"{sum(s.bytes_written for s in stats) / 2**20:,.1f} MiB",
        f"lag {sum(s.lag for s in stats):,}",
        f"errors {sum(s.records_failed for s in stats):,}",
    ]
    if any(s.s3_waiting for s in stats):
        parts.append("[yellow]waiting for S3[/]")
    return " | ".join(parts)


@sink_app.command("list")
def list_streams(ctx: typer.Context) -> None:
    """Show the configured delivery streams."""
    for stream in settings_of(ctx).sinks.delivery_streams:
        typer.echo(
            f"{stream.name}\t{stream.source_topic} -> s3://{stream.bucket or settings_of(ctx).s3.bucket}/"
            f"{stream.prefix}\t{stream.buffering.size_mib} MiB / {stream.buffering.interval_s} s\t{stream.compression}"
        )


@sink_app.command("run")
def run(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None, typer.Argument(help="Delivery streams to run (default: all configured).")
    ] = None,
    until_caught_up: Annotated[
        bool, typer.Option("--until-caught-up", help="Stop once everything in the topics is delivered.")
    ] = False,
    interval: Annotated[
        float, typer.Option("--progress-interval", min=0.1, help="Seconds between progress lines.")
    ] = 2.0,
) -> None:
    """Run delivery streams until Ctrl-C (or SIGTERM); buffered records are written before exiting."""
    settings = settings_of(ctx)
    try:
        chosen = settings.sinks.named(names or [])
    except KeyError as exc:
        raise typer.BadParameter(f"no delivery stream named {exc.args[0]!r}; see `kemu sink list`") from None
    if not chosen:
        raise ConfigurationError("no delivery streams configured: add [[sinks.delivery_streams]] to the config file")
    bootstrap = kafka_bootstrap(settings, "read the delivery streams' topics from")
    connection = require_s3(settings, "deliver to").connection()
    configs = [c if c.bucket else c.model_copy(update={"bucket": settings.s3.bucket}) for c in chosen]
    catalog = None
    if any(settings.sinks.catalog_table(c.name) for c in configs):
        from emulator.glue.registration import DeliveryCatalog

        catalog = DeliveryCatalog(settings.kinesis.glue, bootstrap, connection, settings.kinesis.account_id)
    streams = []
    for config in configs:
        table = settings.sinks.catalog_table(config.name)
        on_write = None
        if catalog is not None and table is not None:
            on_write = catalog.registrar(table, config.name, config.bucket or settings.s3.bucket, config.prefix)
        streams.append(
            DeliveryStream(
                config,
                bootstrap,
                connection,
                poll_timeout_ms=settings.sinks.poll_timeout_ms,
                stop_when_caught_up=until_caught_up,
                on_write=on_write,
            )
        )
    console.print(f"delivering {', '.join(c.name for c in configs)}; Ctrl-C to stop", highlight=False, soft_wrap=True)
    started = time.monotonic()
    try:
        with quiet_gc(ALLOCATIONS_PER_POLL):
            asyncio.run(_run_all(streams, interval, started, catalog))
    except SinkError as exc:
        raise SinkRunError(str(exc)) from exc
    except KafkaError as exc:
        raise SinkRunError(f"Kafka at {bootstrap}: {exc}") from exc
    finally:
        _summary(streams, started)


async def _run_all(
    streams: list[DeliveryStream], interval: float, started: float, catalog: DeliveryCatalog | None = None
) -> None:
    """Run ``streams`` until stopped; ``catalog`` is followed while they run, for those that register their
    objects."""
    if catalog is not None:
        await catalog.start()
    try:
        await _run_streams(streams, interval, started)
    finally:
        if catalog is not None:
            await catalog.stop()


async def _run_streams(streams: list[DeliveryStream], interval: float, started: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(stream.run(stop), name=stream.config.name) for stream in streams]

    async def report() -> None:
        while True:
            await asyncio.sleep(interval)
            console.print(progress_line([s.stats for s in streams], started), highlight=False, soft_wrap=True)

    reporter = asyncio.create_task(report())
    try:
        for done in asyncio.as_completed(tasks):
            try:
                await done
            except StopRequested as exc:
                console.print(f"[yellow]stopped[/]: {exc}; unwritten records stay uncommitted and are re-read")
            except SinkError:
                stop.set()
                raise
    finally:
        reporter.cancel()
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


def _summary(streams: list[DeliveryStream], started: float) -> None:
    elapsed = time.monotonic() - started
    for stream in streams:
        s = stream.stats
        console.print(
            f"{s.name}: {s.records_delivered:,} records in {s.objects:,} objects "
            f"({s.bytes_written / 2**20:,.1f} MiB), {s.records_failed:,} to the error prefix in "
            f"{s.error_objects:,} objects, {s.flushes:,} writes, lag {s.lag:,}, S3 retries {s.s3_retries:,}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"stopped after {elapsed:.1f} s", highlight=False, soft_wrap=True)
