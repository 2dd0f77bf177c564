"""``kemu produce clickstream|game|iot``: generate a realistic event stream into Kafka, or record it to a file."""

# No `from __future__ import annotations` here: Typer reads the option annotations at run time, and those of
# `_command` refer to its `kind` argument, which only an eagerly evaluated annotation can see.

import asyncio
import contextlib
import math
import re
import secrets
import signal
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import orjson
import typer
from pydantic import ValidationError

from emulator.cli.app import console, settings_of
from emulator.endpoints import kafka_bootstrap
from emulator.exceptions import ConfigurationError, EmulatorError, reported_as
from emulator.kinesis.streams import read_shard_map
from emulator.names import STREAM_NAME_PATTERN
from foundation.clock import now_ms
from producers import (
    GeneratorConfig,
    JsonlRecorder,
    KafkaPublisher,
    KafkaPublisherConfig,
    ProducerError,
    Progress,
    RealismConfig,
    RecordSource,
    RunConfig,
    StreamKind,
    Summary,
    ensure_stream,
    make_generator,
    produce,
    quiet_gc,
)

produce_app = typer.Typer(
    help="Generate realistic clickstream, mobile-game or IoT events into a stream (or a JSONL file).",
    no_args_is_help=True,
)

#: Event-time spacing of an unpaced run (``--rate 0``): as if events came at this rate.
UNPACED_EVENT_TIME_RATE = 10_000.0
#: The rate of a run to a stream that names none, and the event-time spacing of a recording that names none.
DEFAULT_RATE = 1_000.0


def pacing(rate: float | None, recording: bool) -> tuple[bool, float]:
    """Whether a run is paced, and the rate its event times are spaced at (events per event-time second).

    A run to a stream is paced at ``rate`` (default :data:`DEFAULT_RATE`). A recording to a file is paced only when
    ``--rate`` is given: nobody waits on a file, and 100,000 events took 100 s at the default rate. Its event times
    are spaced as a stream's at the same rate would be, so a recording looks like what the stream would carry (and
    its ``--duration`` is that much event time).
    ``--rate 0`` is as fast as possible either way, spaced at :data:`UNPACED_EVENT_TIME_RATE`."""
    if rate == 0:
        return False, UNPACED_EVENT_TIME_RATE
    if rate is None:
        return not recording, DEFAULT_RATE
    return True, rate


class ProduceError(EmulatorError):
    """A production run could not start or deliver."""


def parse_start_time(value: str | None) -> int:
    """Epoch milliseconds of an ISO-8601 time (UTC when it names no offset); now when ``None``."""
    if value is None:
        return now_ms()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(f"--start-time {value!r} is not ISO-8601 (2026-11-27T08:00:00Z)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def _one_line(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


def _show_progress(status: object) -> Callable[[Progress], None]:
    def show(p: Progress) -> None:
        text = (
            f"{p.elapsed_s:6.1f} s  generated {p.generated:,}  sent {p.sent:,}  acknowledged {p.acknowledged:,}"
            f"  failed {p.failed:,}  {p.events_per_s:,.0f} events/s"
        )
        update = getattr(status, "update", None)
        if update is not None:
            update(text)

    return show


async def _run(
    source: RecordSource, outlet: KafkaPublisher | JsonlRecorder, run: RunConfig, times_from_ms: int | None = None
) -> Summary:
    """Produce ``run``; ``times_from_ms``, for a paced run whose event times start at the command's own start, is
    that start: the schedule begins there too, so each event is sent at its time, not what setting up the Kafka
    producer took (a second or two) after it."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    # This process only produces, so the collector may be kept out of the hot loop (see producers.gc_tuning).
    with console.status("starting", spinner="dots") as status, quiet_gc(run.chunk_size):
        await outlet.start()
        try:
            started_ago_s = 0.0 if times_from_ms is None else (now_ms() - times_from_ms) / 1000
            return await produce(
                source, outlet, run, on_progress=_show_progress(status), stop=stop, started_ago_s=started_ago_s
            )
        finally:
            await outlet.stop()


def _command(kind: StreamKind) -> Callable[..., None]:
    def command(
        ctx: typer.Context,
        rate: Annotated[
            float | None,
            typer.Option(
                "--rate",
                help="Events per second, paced; 0 means as fast as possible. Default: 1,000 to a stream; with --to, "
                "written as fast as possible, event times spaced as at 1,000 events/s.",
                min=0,
                show_default=False,
            ),
        ] = None,
        duration: Annotated[
            float | None, typer.Option("--duration", help="Stop after this many seconds.", min=0.001)
        ] = None,
        count: Annotated[int | None, typer.Option("--count", help="Stop after this many events.", min=1)] = None,
        seed: Annotated[
            int | None, typer.Option("--seed", help="Same seed (and --start-time) gives the same events.")
        ] = None,
        stream: Annotated[
            str, typer.Option("--stream", help="Stream (Kafka topic) name.", show_default=kind.default_stream)
        ] = kind.default_stream,
        shards: Annotated[
            int, typer.Option("--shards", help="Shards of the stream if it has to be created.", min=1, max=1024)
        ] = 4,
        start_time: Annotated[
            str | None, typer.Option("--start-time", help="Event time of the first event (ISO-8601); now if unset.")
        ] = None,
        population: Annotated[
            int | None, typer.Option("--population", help="Number of users, players or devices.", min=1)
        ] = None,
        out_of_order: Annotated[
            float, typer.Option("--out-of-order", help="Share of events delivered late (0 to 1).", min=0, max=1)
        ] = 0.0,
        delay_mean_ms: Annotated[
            float, typer.Option("--delay-mean-ms", help="Mean (exponential) delay of a late event, ms.", min=1)
        ] = 2000.0,
        delay_max_ms: Annotated[
            float, typer.Option("--delay-max-ms", help="Largest delay of a late event, ms.", min=1)
        ] = 30000.0,
        malformed: Annotated[
            float, typer.Option("--malformed", help="Share of malformed records (0 to 1).", min=0, max=1)
        ] = 0.0,
        oversized_bytes: Annotated[
            int, typer.Option("--oversized-bytes", help="Size of an oversized malformed record.", min=1024)
        ] = 262_144,
        to: Annotated[
            Path | None, typer.Option("--to", help="Record to this JSONL file instead of Kafka.", dir_okay=False)
        ] = None,
    ) -> None:
        if not re.fullmatch(STREAM_NAME_PATTERN, stream):
            raise ConfigurationError(f"--stream {stream!r} is not a stream name (1-128 letters, digits, _ . -)")
        if duration is not None and count is not None:
            raise ConfigurationError("give --duration or --count, not both")
        used_seed = seed if seed is not None else secrets.randbits(31)
        paced, spacing = pacing(rate, recording=to is not None)
        if to is not None and rate is None and duration is not None:
            # An unpaced recording would fill the file for `duration` seconds of wall clock (millions of events):
            # what is asked for is that much event time at the spacing rate.
            count, duration = math.ceil(duration * spacing), None
        try:
            generator = GeneratorConfig(
                kind=kind,
                seed=used_seed,
                start_time_ms=parse_start_time(start_time),
                events_per_second=spacing,
                population=population,
            )
            realism = RealismConfig(
                out_of_order_ratio=out_of_order,
                out_of_order_mean_delay_ms=delay_mean_ms,
                out_of_order_max_delay_ms=delay_max_ms,
                malformed_ratio=malformed,
                oversized_bytes=oversized_bytes,
            )
            run = RunConfig(rate=spacing if paced else None, count=count, duration_s=duration)
        except ValidationError as exc:
            raise ConfigurationError(_one_line(exc)) from None
        source = RecordSource(make_generator(generator), realism, used_seed)
        outlet: KafkaPublisher | JsonlRecorder
        if to is not None:
            outlet = JsonlRecorder(to)
            target = str(to)
        else:
            settings = settings_of(ctx)
            bootstrap = kafka_bootstrap(settings, "write to", ", or record to a file with --to FILE.jsonl")
            with reported_as(ProducerError, ProduceError):
                partitions = asyncio.run(ensure_stream(bootstrap, stream, shards))
            # A stream resharded through the Kinesis API routes to its open shards, as the API does.
            shard_map = asyncio.run(read_shard_map(bootstrap, settings.kinesis.metadata_topic, stream))
            outlet = KafkaPublisher(KafkaPublisherConfig(bootstrap_servers=bootstrap), stream, shard_map)
            shown = f"{partitions} shards" if shard_map is None else f"{len(shard_map.open_shards)} open shards"
            target = f"stream {stream} ({shown}) on {bootstrap}"
        bound = f"{count:,} events" if count else f"{duration} s" if duration else "until Ctrl-C"
        pace = f"{spacing:,.0f} events/s" if paced else f"as fast as possible (event times as at {spacing:,.0f}/s)"
        console.print(
            f"producing {kind.value} events to {target}, {pace}, {bound}, seed {used_seed}",
            highlight=False,
            markup=False,
        )
        with reported_as(ProducerError, ProduceError):
            live_times = generator.start_time_ms if paced and start_time is None else None
            summary = asyncio.run(_run(source, outlet, run, live_times))
        console.print(
            f"[green]done[/]: {summary.acknowledged:,} acknowledged, {summary.failed:,} failed of {summary.sent:,} "
            f"sent in {summary.elapsed_s:.1f} s ({summary.events_per_s:,.0f} events/s)",
            highlight=False,
        )
        typer.echo(orjson.dumps({"stream": stream, "kind": kind.value, "seed": used_seed, **summary.as_dict()}))
        if summary.failed:
            raise typer.Exit(1)

    command.__doc__ = {
        StreamKind.CLICKSTREAM: "Web-shop clickstream: sessions of page views, clicks, carts, purchases, errors.",
        StreamKind.GAME: "Mobile game: matches and points of players of very unequal skill (leaderboard source).",
        StreamKind.IOT: "IoT telemetry: device readings with noise, drift, heartbeats and injected anomalies.",
    }[kind]
    return command


for _kind in StreamKind:
    produce_app.command(_kind.value)(_command(_kind))
