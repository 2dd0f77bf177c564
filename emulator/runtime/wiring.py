"""The components ``kemu up`` runs beside the leaderboard API, built from the settings and the resolved addresses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence

import pyarrow as pa

from analytics import AnalyticsEngine, QueryRunner, load_queries, select_queries
from emulator.edge.server import EdgeServer
from emulator.endpoints import ResolvedEndpoints
from emulator.kinesis.streams import read_shard_map
from emulator.runtime.components import ComponentFactory
from emulator.supervision import Component, ServiceComponent
from emulator.topics import kinesis_settings
from emulator.version import installed_version
from foundation.clock import now_ms
from producers import (
    GeneratorConfig,
    KafkaPublisher,
    KafkaPublisherConfig,
    RealismConfig,
    RecordSource,
    RunConfig,
    StreamKind,
    ensure_stream,
    make_generator,
    produce,
)
from sinks import DeliveryStream, DeliveryStreamConfig, S3Connection

Components = Sequence[Component | ServiceComponent]


class KinesisApiComponent:
    """The edge endpoint (its own uvicorn in a thread) as a supervised component: the Kinesis Data Streams and
    Firehose HTTP APIs, whose delivery streams write to the demo's S3, and that S3 itself, forwarded."""

    name = "kinesis-api"

    def __init__(self, context: ResolvedEndpoints) -> None:
        self._context = context
        self._server: EdgeServer | None = None

    async def start(self) -> None:
        # A new server per start: a restarted component must not reuse a stopped uvicorn thread.
        connection = self._context.s3.connection()
        settings = kinesis_settings(self._context.settings).with_result_bucket(self._context.s3.bucket)
        self._server = EdgeServer(settings, self._context.kafka_bootstrap, s3=connection, version=installed_version())
        await asyncio.to_thread(self._server.start)

    async def stop(self) -> None:
        if self._server is not None:
            await asyncio.to_thread(self._server.stop)


class ProducerComponent:
    """One of the demo's event streams, produced at a steady rate until the demo stops."""

    def __init__(self, context: ResolvedEndpoints, kind: StreamKind, rate: float) -> None:
        self.name = f"producer-{kind.value}"
        self._context = context
        self._kind = kind
        self._rate = rate
        self._publisher: KafkaPublisher | None = None

    async def run(self) -> None:
        demo = self._context.settings.demo
        stream = self._kind.default_stream
        await ensure_stream(self._context.kafka_bootstrap, stream, demo.shards)
        # A new seed each (re)start: a restarted producer must not repeat the event ids it already sent.
        seed = time.time_ns() % 2**31
        generator = GeneratorConfig(kind=self._kind, seed=seed, start_time_ms=now_ms(), events_per_second=self._rate)
        realism = RealismConfig(
            out_of_order_ratio=demo.out_of_order_ratio,
            malformed_ratio=demo.malformed_ratio,
            oversized_bytes=demo.oversized_bytes,
        )
        bootstrap = self._context.kafka_bootstrap
        shard_map = await read_shard_map(bootstrap, self._context.settings.kinesis.metadata_topic, stream)
        publisher = KafkaPublisher(KafkaPublisherConfig(bootstrap_servers=bootstrap), stream, shard_map)
        self._publisher = publisher
        await publisher.start()
        try:
            run = RunConfig(rate=self._rate, pacing_tick_ms=demo.producer_tick_ms)
            source = RecordSource(make_generator(generator), realism, seed)
            # The events' times began at start_time_ms: the schedule begins there too, or every event would be sent
            # the time it took to start the producer (about 50 ms) after its event time, for the whole run.
            started_ago_s = (now_ms() - generator.start_time_ms) / 1000
            await produce(source, publisher, run, started_ago_s=started_ago_s)
        finally:
            await publisher.stop()

    def stats(self) -> Mapping[str, float]:
        if self._publisher is None:
            return {}
        return {"events_out": self._publisher.stats.acknowledged, "errors": self._publisher.stats.failed}

    def info(self) -> Mapping[str, str]:
        return {"stream": self._kind.default_stream}


class DeliveryComponent:
    """A Firehose-like delivery stream; on stop it writes what it buffered before returning."""

    def __init__(self, context: ResolvedEndpoints, config: DeliveryStreamConfig, connection: S3Connection) -> None:
        self.name = f"sink-{config.name}"
        self._context = context
        self._config = config
        self._connection = connection
        self._stream: DeliveryStream | None = None

    async def run(self) -> None:
        settings = self._context.settings
        # The demo's producers may not have created the topic yet; a sink of a missing topic would only fail.
        await ensure_stream(self._context.kafka_bootstrap, self._config.source_topic, settings.demo.shards)
        table = settings.sinks.catalog_table(self._config.name)
        catalog = None
        on_write = None
        if table is not None:
            from emulator.glue.registration import DeliveryCatalog

            catalog = DeliveryCatalog(
                settings.kinesis.glue, self._context.kafka_bootstrap, self._connection, settings.kinesis.account_id
            )
            await catalog.start()
            bucket = self._config.bucket or self._context.s3.bucket
            on_write = catalog.registrar(table, self._config.name, bucket, self._config.prefix)
        # A DeliveryStream is single-use (its write worker stops with it): a new one per (re)start.
        stream = DeliveryStream(
            self._config,
            self._context.kafka_bootstrap,
            self._connection,
            poll_timeout_ms=settings.sinks.poll_timeout_ms,
            on_write=on_write,
        )
        self._stream = stream
        stop = asyncio.Event()
        task = asyncio.create_task(stream.run(stop))
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            stop.set()
            await task
            raise
        finally:
            if catalog is not None:
                await catalog.stop()

    def stats(self) -> Mapping[str, float]:
        if self._stream is None:
            return {}
        s = self._stream.stats
        return {
            "events_in": s.records_in,
            "events_out": s.records_delivered,
            "errors": s.records_failed,
            "sink_objects": s.objects,
            "sink_bytes": s.bytes_written,
            "lag": s.lag,
        }

    def info(self) -> Mapping[str, str]:
        config = self._config
        found = {"source": config.source_topic, "bucket": config.bucket or self._context.s3.bucket}
        if self._stream is not None and self._stream.stats.last_key:
            found["last_key"] = self._stream.stats.last_key
        return found


class AnalyticsComponent:
    """Every configured query (the built-ins and the user's query files) on the live streams."""

    name = "analytics"

    def __init__(self, context: ResolvedEndpoints) -> None:
        self._context = context
        self._engine: AnalyticsEngine | None = None

    async def run(self) -> None:
        config = self._context.settings.analytics
        # Loaded at each (re)start, so a query file fixed after a failure is picked up by the restart.
        catalog = load_queries(list(config.query_dirs), builtins=config.builtin_queries)
        engine = AnalyticsEngine(select_queries(catalog, []), self._context.kafka_bootstrap, config)
        self._engine = engine
        stop = asyncio.Event()
        task = asyncio.create_task(engine.run(stop))
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            stop.set()  # a clean stop writes a last checkpoint
            await task
            raise

    def stats(self) -> Mapping[str, float]:
        if self._engine is None:
            return {}
        runners = self._engine.runners
        figures: dict[str, float] = {
            "events_in": sum(r.events for r in runners),
            "late_events": sum(r.operator.late_count for r in runners),
            "errors": sum(r.errors for r in runners),
            # The most-behind query's unread source records: what a user waits for before a board is current.
            "lag": max((r.lag for r in runners), default=0),
        }
        for runner in runners:
            figures |= query_figures(runner)
        # What a long run's memory is made of, beside the process's RSS: the queries' window state (wherever its buffers
        # were allocated) and pyarrow's own memory pool, which holds the decoded batches in flight (tables DuckDB
        # returns are allocated by DuckDB and not counted in the pool).
        figures["state_rows"] = sum(figures[f"q.{r.query.name}.state_rows"] for r in runners)
        figures["state_bytes"] = sum(figures[f"q.{r.query.name}.state_bytes"] for r in runners)
        figures["arrow_pool_bytes"] = float(pa.total_allocated_bytes())
        return figures

    def info(self) -> Mapping[str, str]:
        """Per query (``q.<name>.…``): the topic it reads and the topic its rows go to."""
        if self._engine is None:
            return {}
        topics = self._engine.config.output_topics()
        found: dict[str, str] = {}
        for runner in self._engine.runners:
            header = runner.query.header
            output = {"results": topics.results, "alerts": topics.alerts}.get(header.output, header.output_topic)
            found[f"q.{runner.query.name}.source"] = runner.query.source.topic
            found[f"q.{runner.query.name}.output"] = output or topics.results
        return found


def query_figures(runner: QueryRunner) -> dict[str, float]:
    """One query's figures for the live page, keyed ``q.<name>.<figure>`` (query names have no dots)."""
    prefix = f"q.{runner.query.name}."
    figures = {
        prefix + "events": float(runner.events),
        prefix + "lag": float(runner.lag),
        prefix + "late": float(runner.operator.late_count),
        prefix + "errors": float(runner.errors),
    }
    rows, size = runner.operator.state_size()
    figures[prefix + "state_rows"], figures[prefix + "state_bytes"] = float(rows), float(size)
    watermark = runner.operator.watermark
    # Before the first event the tracker holds a sentinel far in the past; after a final flush one far ahead (and a
    # stateless query has none: 0).
    if 0 < watermark < 2**61:
        figures[prefix + "watermark_ms"] = float(watermark)
    return figures


def kinesis_api_components(context: ResolvedEndpoints) -> Components:
    return [KinesisApiComponent(context)]


def producer_components(context: ResolvedEndpoints) -> Components:
    demo = context.settings.demo
    rates = {
        StreamKind.GAME: demo.game_rate,
        StreamKind.CLICKSTREAM: demo.clickstream_rate,
        StreamKind.IOT: demo.iot_rate,
    }
    return [ProducerComponent(context, kind, rate) for kind, rate in rates.items() if rate > 0]


def analytics_components(context: ResolvedEndpoints) -> Components:
    return [AnalyticsComponent(context)]


def sink_components(context: ResolvedEndpoints) -> Components:
    settings = context.settings
    if not settings.demo.deliver_to_s3:
        return []
    s3, connection = context.s3, context.s3.connection()
    return [
        DeliveryComponent(
            context, config if config.bucket else config.model_copy(update={"bucket": s3.bucket}), connection
        )
        for config in settings.sinks.delivery_streams
    ]


#: What ``kemu up`` runs beside the leaderboard API, started in this order and stopped in reverse: the APIs and
#: the consumers that drain (the sinks, the analytics engine) before the producers that feed them.
PIPELINE_COMPONENTS: tuple[ComponentFactory, ...] = (
    kinesis_api_components,
    sink_components,
    analytics_components,
    producer_components,
)
