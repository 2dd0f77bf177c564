"""The catalog's state: in memory, every change a record of one compacted Kafka topic, which every holder tails.

Why a compacted topic and not a file in the run directory: the catalog has several writers in different processes
(the edge endpoint's Glue API, delivery streams registering partitions in it, ``kemu lake crawl`` from a shell) and
they may run on different machines (``docker compose``, a team's cluster); a topic is durable, ordered and shared by
all of them with no lock, and it is what the Kinesis and Firehose APIs already keep their definitions in. Each
holder applies the topic in offset order, including its own writes (a write returns once the holder's tail has
applied it), so all holders converge on the same state and a restart reads it back. Concurrent changes to one entity
from two processes: the later record wins.

Keys: ``database/<db>``, ``table/<db>/<table>``, ``partition/<db>/<table>/<JSON list of values>``,
``crawler/<name>``; a deletion is a tombstone. Unreadable records are skipped, logged and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from emulator.glue.errors import GlueError, InternalServiceException
from emulator.glue.model import DatabaseDef, PartitionDef, TableDef
from emulator.glue.wire import ensure_compacted_topic
from foundation.lifecycle import AsyncResource

log = logging.getLogger(__name__)

PartitionKey = tuple[str, ...]
_PARSE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError)


@dataclass
class CatalogState:
    """What the topic holds, applied: databases, tables, partitions and crawler definitions by name."""

    databases: dict[str, DatabaseDef] = field(default_factory=dict)
    tables: dict[tuple[str, str], TableDef] = field(default_factory=dict)
    partitions: dict[tuple[str, str], dict[PartitionKey, PartitionDef]] = field(default_factory=dict)
    crawlers: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: int = 0

    def apply(self, key: str, value: dict[str, Any] | None) -> None:
        """Apply one record (``None``: a tombstone). Raises one of ``_PARSE_ERRORS`` for an unusable one."""
        kind, _, rest = key.partition("/")
        if kind == "database":
            if value is None:
                self.databases.pop(rest, None)
            else:
                self.databases[rest] = DatabaseDef.from_record(value)
        elif kind == "table":
            database, _, name = rest.partition("/")
            if value is None:
                self.tables.pop((database, name), None)
                self.partitions.pop((database, name), None)
            else:
                self.tables[(database, name)] = TableDef.from_record(database, value)
        elif kind == "partition":
            database, _, rest = rest.partition("/")
            name, _, encoded = rest.partition("/")
            values = tuple(orjson.loads(encoded))
            if value is None:
                self.partitions.get((database, name), {}).pop(values, None)
                return
            table = self.tables.get((database, name))
            if table is None:  # the table was deleted after this partition was written
                return
            self.partitions.setdefault((database, name), {})[values] = PartitionDef.from_record(database, table, value)
        elif kind == "crawler":
            if value is None:
                self.crawlers.pop(rest, None)
            else:
                self.crawlers[rest] = value
        else:
            raise ValueError(f"unknown record kind {kind!r}")


def database_key(database: str) -> str:
    return f"database/{database}"


def table_key(database: str, table: str) -> str:
    return f"table/{database}/{table}"


def partition_key(database: str, table: str, values: PartitionKey) -> str:
    return f"partition/{database}/{table}/{orjson.dumps(list(values)).decode()}"


def crawler_key(name: str) -> str:
    return f"crawler/{name}"


Change = tuple[str, dict[str, Any] | None]


class CatalogStore(AsyncResource):
    """The catalog of ``topic`` on ``bootstrap_servers``: ``start()`` reads it back and keeps tailing it."""

    def __init__(self, bootstrap_servers: str, topic: str, on_change: Callable[[str], None] | None = None) -> None:
        self._bootstrap = bootstrap_servers
        self._topic = topic
        self._tp = TopicPartition(topic, 0)
        self.state = CatalogState()
        self._applied = -1
        self._advanced = asyncio.Condition()
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._tail: asyncio.Task[None] | None = None
        self._on_change = on_change

    async def start(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, client_id="kemu-glue")
        try:
            await admin.start()
            await ensure_compacted_topic(admin, self._topic)
        finally:
            await admin.close()
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap, acks="all", enable_idempotence=True, linger_ms=0
        )
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, group_id=None, enable_auto_commit=False, fetch_max_wait_ms=50,
            isolation_level="read_committed",
        )  # fmt: skip
        try:
            await self._producer.start()
            await self._consumer.start()
            self._consumer.assign([self._tp])
            await self._consumer.seek_to_beginning(self._tp)
            end = (await self._consumer.end_offsets([self._tp]))[self._tp]
            self._tail = asyncio.create_task(self._follow(), name=f"glue-tail-{self._topic}")
            await self._wait_applied(end - 1)
        except BaseException:
            # A catalog that could not start is closed here: its caller only stops what started.
            await self.stop()
            raise
        if self.state.skipped:
            log.warning("%d unreadable record(s) of catalog topic %s were skipped", self.state.skipped, self._topic)

    async def stop(self) -> None:
        if self._tail is not None:
            self._tail.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tail
        if self._consumer is not None:
            await self._consumer.stop()
        if self._producer is not None:
            await self._producer.stop()

    async def write(self, changes: list[Change]) -> None:
        """Persist ``changes`` in order and return once this holder has applied them (read your writes)."""
        if not changes:
            return
        producer = self._producer
        if producer is None:
            raise InternalServiceException("The Glue catalog is not started.")
        try:
            futures = [
                await producer.send(
                    self._topic, key=key.encode(), value=None if value is None else orjson.dumps(value), partition=0
                )
                for key, value in changes
            ]
            offsets = [(await future).offset for future in futures]
        except Exception as exc:
            log.exception("the catalog topic %s did not take a write", self._topic)
            raise InternalServiceException(f"The catalog could not be saved to Kafka: {exc}") from exc
        await self._wait_applied(max(offsets))

    async def _wait_applied(self, offset: int) -> None:
        async with self._advanced:
            while self._applied < offset:
                if self._tail is not None and self._tail.done():
                    raise InternalServiceException("The catalog stopped reading its topic.")
                await asyncio.wait_for(self._advanced.wait(), timeout=30)

    async def _follow(self) -> None:
        consumer = self._consumer
        if consumer is None:  # pragma: no cover - the task is created after the consumer
            raise InternalServiceException("The Glue catalog is not started.")
        try:
            while True:
                batches = await consumer.getmany(self._tp, timeout_ms=500)
                position = await consumer.position(self._tp)
                for record in batches.get(self._tp, []):
                    self._apply(record)
                async with self._advanced:
                    self._applied = max(self._applied, position - 1)
                    self._advanced.notify_all()
        finally:
            async with self._advanced:
                self._advanced.notify_all()

    def _apply(self, record: Any) -> None:
        where = f"{record.topic}[{record.partition}]@{record.offset}"
        try:
            key = (record.key or b"").decode("utf-8")
            value = None if record.value is None else orjson.loads(record.value)
            if value is not None and not isinstance(value, dict):
                raise TypeError("its value is not a JSON object")
            self.state.apply(key, value)
        except (*_PARSE_ERRORS, GlueError, UnicodeDecodeError, orjson.JSONDecodeError) as exc:
            self.state.skipped += 1
            log.warning("skipping catalog record %s: %s: %s", where, type(exc).__name__, exc)
            return
        if self._on_change is not None:
            self._on_change(key)
