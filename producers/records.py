"""From events to Kafka records: realism applied, serialized with orjson, keyed by partition key."""

from __future__ import annotations

import random
from collections.abc import Callable

import orjson

from producers.config import RealismConfig
from producers.generators.base import Event, EventGenerator
from producers.partitioning import shard_for_partition_key
from producers.realism import Corruptor, Disorder

#: One record to write: ``(partition key, value)``; the value is a JSON event or a malformed one. A plain tuple,
#: not a NamedTuple: building one of those costs a third of a microsecond per event on the hot path.
Record = tuple[str, bytes]


class PartitionMapper:
    """Partition key → shard with :func:`shard_for_partition_key`, memoized: keys repeat, MD5 is not free."""

    def __init__(self, shards: int) -> None:
        if shards < 1:
            raise ValueError(f"a stream has at least one shard, got {shards}")
        self.shards = shards
        self._cache: dict[str, tuple[int, bytes]] = {}

    def __call__(self, key: str) -> int:
        return self.shard_and_key_bytes(key)[0]

    def shard_and_key_bytes(self, key: str) -> tuple[int, bytes]:
        """The shard and the UTF-8 key (the Kafka record key), both cached."""
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) > 1_000_000:  # bounded, in case keys never repeat
                self._cache.clear()
            found = self._cache[key] = (shard_for_partition_key(key, self.shards), key.encode())
        return found


class RecordSource:
    """Generator + out-of-order + malformed + serialization: ``next_records(n)`` then ``drain()`` at the end."""

    def __init__(self, generator: EventGenerator, realism: RealismConfig, seed: int) -> None:
        # Realism draws from its own stream so turning it on does not change the events themselves.
        rng = random.Random(f"realism-{seed}")  # noqa: S311 - seeded simulation
        self.generator = generator
        self.disorder = Disorder(realism, rng)
        self.corruptor = Corruptor(realism, rng, generator.key_field)
        self.generated = 0
        self._corrupt_enabled = realism.malformed_ratio > 0.0

    def next_records(self, n: int) -> list[Record]:
        events = self.generator.next_chunk(n)
        self.generated += len(events)
        return self._serialize(self.disorder.apply(events))

    def drain(self) -> list[Record]:
        """Records still held back by the out-of-order delay."""
        return self._serialize(self.disorder.flush())

    def _serialize(self, events: list[Event]) -> list[Record]:
        key_field = self.generator.key_field
        dumps = orjson.dumps
        if not self._corrupt_enabled:
            return [(e[key_field], dumps(e)) for e in events]
        corruptor = self.corruptor
        should: Callable[[], bool] = corruptor.should_corrupt
        return [(e[key_field], corruptor.corrupt(e) if should() else dumps(e)) for e in events]
