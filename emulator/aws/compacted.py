"""The compacted metadata topics of the APIs (stream and delivery-stream definitions) as one table class: created
once, read back at start, one record per name (JSON), a tombstone when the name is deleted.

Reading back never trusts the topic: a record whose key is not UTF-8, whose value is not a JSON object, or that its
parser refuses is skipped, logged with its position and counted, and the definitions around it still load. A server
that refused to start over one bad record would lose every definition until someone repaired the topic by hand.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import orjson
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from emulator.aws.writer import KafkaWriter

log = logging.getLogger(__name__)

T = TypeVar("T")

#: What a parser may raise for a record it cannot use; anything else is a bug and propagates.
PARSE_ERRORS = (KeyError, TypeError, ValueError, AttributeError)


@dataclass
class Loaded(Generic[T]):
    """The definitions read back, by name, and how many records were skipped as unreadable."""

    entries: dict[str, T] = field(default_factory=dict)
    skipped: int = 0


async def ensure_compacted_topic(admin: AIOKafkaAdminClient, topic: str, replication_factor: int = 1) -> None:
    """Create ``topic`` (one partition, compacted) unless it exists."""
    if topic in await admin.list_topics():
        return
    with contextlib.suppress(Exception):  # another instance may create it at the same time
        await admin.create_topics([NewTopic(topic, 1, replication_factor, topic_configs={"cleanup.policy": "compact"})])


async def load_compacted(bootstrap_servers: str, topic: str, parse: Callable[[str, dict[str, Any]], T]) -> Loaded[T]:
    """Every live definition of ``topic``: ``parse(name, record)`` of the last readable record of each name."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False,
        auto_offset_reset="earliest",
    )  # fmt: skip
    loaded: Loaded[T] = Loaded()
    try:
        await consumer.start()
        partitions = list(consumer.assignment())
        if not partitions:
            return loaded
        ends = await consumer.end_offsets(partitions)
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                for record in records:
                    _apply(loaded, record, parse)
    finally:
        await consumer.stop()
    if loaded.skipped:
        log.warning("%d unreadable record(s) of metadata topic %s were skipped (see above)", loaded.skipped, topic)
    return loaded


class CompactedTable(Generic[T]):
    """Definitions of type ``T`` by name in the compacted ``topic``: :meth:`load` at start, then :meth:`save` and
    :meth:`remove` as they change (each acknowledged by Kafka before it returns). ``parse(name, record)`` turns a
    record back into a definition, raising one of :data:`PARSE_ERRORS` for one it cannot use."""

    def __init__(
        self, bootstrap_servers: str, topic: str, writer: KafkaWriter, parse: Callable[[str, dict[str, Any]], T]
    ) -> None:
        self._bootstrap = bootstrap_servers
        self.topic = topic
        self._writer = writer
        self._parse = parse

    async def load(self, admin: AIOKafkaAdminClient, replication_factor: int = 1) -> Loaded[T]:
        """Create the topic unless it exists, then read every live definition back."""
        await ensure_compacted_topic(admin, self.topic, replication_factor)
        return await load_compacted(self._bootstrap, self.topic, self._parse)

    async def save(self, name: str, value: bytes) -> None:
        await self._writer.send_json(self.topic, name.encode(), value)

    async def remove(self, name: str) -> None:
        """Write ``name``'s tombstone."""
        await self._writer.send_json(self.topic, name.encode(), None)


def typed_member(record: dict[str, Any], key: str, kind: type[Any], default: Any = None) -> Any:
    """``record[key]`` when it has exactly type ``kind`` (``bool`` is no ``int`` here); ``default`` when absent (a
    ``None`` default makes the member required). TypeError or KeyError otherwise: what a parser raises."""
    if key not in record and default is not None:
        return default
    value = record[key]
    if type(value) is not kind:
        raise TypeError(f"{key} must be of type {kind.__name__}, not {type(value).__name__}")
    return value


def _apply(loaded: Loaded[T], record: Any, parse: Callable[[str, dict[str, Any]], T]) -> None:
    where = f"{record.topic}[{record.partition}]@{record.offset}"
    try:
        name = (record.key or b"").decode("utf-8")
    except UnicodeDecodeError:
        _skip(loaded, where, "its key is not UTF-8")
        return
    if record.value is None:
        loaded.entries.pop(name, None)
        return
    try:
        value = orjson.loads(record.value)
    except orjson.JSONDecodeError as exc:
        _skip(loaded, where, f"its value is not JSON ({exc})")
        return
    if not isinstance(value, dict):
        _skip(loaded, where, "its value is not a JSON object")
        return
    try:
        loaded.entries[name] = parse(name, value)
    except PARSE_ERRORS as exc:
        _skip(loaded, where, f"it is not a valid definition ({type(exc).__name__}: {exc})")


def _skip(loaded: Loaded[Any], where: str, reason: str) -> None:
    loaded.skipped += 1
    log.warning("skipping metadata record %s: %s", where, reason)
