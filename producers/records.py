"""From events to Kafka records: realism applied, serialized with orjson, keyed by partition key."""

from __future__ import annotations

import random
from collections.abc import Callable

import orjson

from producers.config import RealismConfig
from producers.generators.base import Event, EventGenerator, Record, RecordGenerator
from producers.partitioning import shard_for_partition_key
from producers.realism import Corruptor, Disorder
from producers.shard_map import ShardMap

__all__ = ["PartitionMapper", "Record", "RecordSource"]


class PartitionMapper:
    """Partition key → shard, memoized (keys repeat, MD5 is not free): the even split of ``shards`` (the rule of
    :func:`shard_for_partition_key`), or the open shards of a resharded stream's :class:`ShardMap`."""

    def __init__(self, shards: int | ShardMap) -> None:
        if isinstance(shards, int) and shards < 1:
            raise ValueError(f"a stream has at least one shard, got {shards}")
        self._map = shards if isinstance(shards, ShardMap) else None
        #: Partitions the records may go to (a resharded stream's closed shards included, never chosen).
        self.shards = len(shards) if isinstance(shards, ShardMap) else shards
        #: Read directly by the Kafka publisher's loop (a method call per record costs more than the lookup).
        self.cache: dict[str, tuple[int, bytes]] = {}

    def __call__(self, key: str) -> int:
        return self.shard_and_key_bytes(key)[0]

    def shard_and_key_bytes(self, key: str) -> tuple[int, bytes]:
        """The shard and the UTF-8 key (the Kafka record key), both cached."""
        found = self.cache.get(key)
        if found is None:
            if len(self.cache) > 1_000_000:  # bounded, in case keys never repeat
                self.cache.clear()
            shard = self._map.partition_for(key) if self._map is not None else shard_for_partition_key(key, self.shards)
            found = self.cache[key] = (shard, key.encode())
        return found


class RecordSource:
    """Generator + out-of-order + malformed + serialization: ``next_records(n)`` then ``drain()`` at the end.

    A generator that serializes its own events (a :class:`RecordGenerator`) never has its events turned into dicts:
    realism works on the ``(key, bytes)`` records, reading only the event time, and parses only the records it
    spoils. Other generators take the dict path (generate dicts, delay them, serialize). Both paths make the same
    random draws in the same order, so a seed gives the same records byte for byte whichever runs;
    ``records_path=False`` forces the dict path (tests and the benchmark compare the two).
    """

    def __init__(
        self, generator: EventGenerator, realism: RealismConfig, seed: int, *, records_path: bool = True
    ) -> None:
        # Realism draws from its own streams so turning it on does not change the events themselves; the delays
        # and the spoiling each have their own, because they draw at different points: the delays as records are
        # generated, the spoiling as they leave the delay. Sharing one stream made their interleaving, and so the
        # records, depend on how many records each chunk held, which a paced run decides by the wall clock.
        rng = random.Random(f"realism-{seed}")  # noqa: S311 - seeded simulation
        spoil_rng = random.Random(f"malformed-{seed}")  # noqa: S311 - seeded simulation
        self.generator = generator
        self.disorder = Disorder(realism, rng)
        self.corruptor = Corruptor(realism, spoil_rng, generator.key_field)
        self.generated = 0
        self._corrupt_enabled = realism.malformed_ratio > 0.0
        self._rng_random = spoil_rng.random
        self._malformed_ratio = realism.malformed_ratio
        #: The generator's own serializer when it has one (and the records path is not turned off).
        self._records: Callable[[int], list[Record]] | None = None
        if records_path and isinstance(generator, RecordGenerator):
            self._records = generator.next_records
        # With no realism asked for, those records go out as they are.
        self._direct = self._records if realism.out_of_order_ratio == 0.0 and not self._corrupt_enabled else None

    def next_records(self, n: int) -> list[Record]:
        if self._direct is not None:
            records = self._direct(n)
            self.generated += len(records)
            return records
        if self._records is not None:
            records = self._records(n)
            self.generated += len(records)
            return self._spoil(self.disorder.apply_records(records))
        events = self.generator.next_chunk(n)
        self.generated += len(events)
        return self._serialize(self.disorder.apply(events))

    def drain(self) -> list[Record]:
        """Records still held back by the out-of-order delay."""
        if self._records is not None:
            return self._spoil(self.disorder.flush_records())
        return self._serialize(self.disorder.flush())

    def _serialize(self, events: list[Event]) -> list[Record]:
        key_field = self.generator.key_field
        dumps = orjson.dumps
        if not self._corrupt_enabled:
            return [(e[key_field], dumps(e)) for e in events]
        corruptor = self.corruptor
        should: Callable[[], bool] = corruptor.should_corrupt
        return [(e[key_field], corruptor.corrupt(e) if should() else dumps(e)) for e in events]

    def _spoil(self, records: list[Record]) -> list[Record]:
        """:meth:`_serialize` for records: the same draw per record, and only the chosen ones parsed to spoil.

        Replaces in place (the list is this source's own, fresh from the generator or the disorder): a loop that
        rebuilds every tuple costs three times as much as one that only draws.
        """
        if not self._corrupt_enabled:
            return records
        # Corruptor.should_corrupt inlined: one draw per record, in order, as the dict path makes them; a spoiled
        # record's own draws come before the next record's, as there.
        rng_random, ratio = self._rng_random, self._malformed_ratio
        corrupt, loads = self.corruptor.corrupt, orjson.loads
        for i in range(len(records)):
            if rng_random() < ratio:
                key, value = records[i]
                records[i] = (key, corrupt(loads(value)))
        return records
