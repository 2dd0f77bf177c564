"""A stream's shards after resharding: hash-key ranges, lineage, open and closed, as pure data and arithmetic.

Kafka can only add partitions to a topic, so resharding keeps shard ``i`` = partition ``i`` by never reusing one:
a split or a merge closes its parents (their partitions take no new writes and stay readable until retention) and
opens its children as new partitions, numbered after every shard the stream ever had, as AWS numbers new shard
ids. The open shards always cover [0, 2**128 - 1] without overlap, and a record goes to the open shard whose range
holds its hash key (:meth:`ShardMap.route`), whichever way it is written (the Kinesis API or the aiokafka
producers), so both agree after a reshard as before.

A stream that was never resharded is :meth:`ShardMap.uniform`: the even split of
:func:`~producers.partitioning.shard_hash_key_ranges`, so its routing is exactly the one of a stream created with
that many shards.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from producers.partitioning import MAX_HASH_KEY, hash_key_of, parse_explicit_hash_key, shard_hash_key_ranges

__all__ = ["ReshardError", "Shard", "ShardMap"]


class ReshardError(ValueError):
    """A split, merge or scaling the shard map cannot do; the message says why in terms of the shards."""


@dataclass(frozen=True, slots=True)
class Shard:
    """One shard: its partition (= its index), hash-key range, parents, and whether it still takes writes.

    ``end_offset`` is the Kafka offset after the shard's last record, known once a closed shard's in-flight writes
    have landed; ``None`` while open or while its close is completing.
    """

    index: int
    start: int
    end: int
    parent: int | None = None
    adjacent_parent: int | None = None
    opened_ms: int = 0
    closed_ms: int | None = None
    end_offset: int | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_ms is None

    def holds(self, hash_key: int) -> bool:
        return self.start <= hash_key <= self.end

    def overlaps(self, other: Shard) -> bool:
        return self.start <= other.end and other.start <= self.end

    def to_json(self) -> dict[str, Any]:
        # Hash keys as decimal strings: JSON readers (and orjson) stop at 64-bit integers.
        record: dict[str, Any] = {"i": self.index, "start": str(self.start), "end": str(self.end), "at": self.opened_ms}
        if self.parent is not None:
            record["parent"] = self.parent
        if self.adjacent_parent is not None:
            record["adjacent"] = self.adjacent_parent
        if self.closed_ms is not None:
            record["closed"] = self.closed_ms
        if self.end_offset is not None:
            record["end_offset"] = self.end_offset
        return record

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> Shard:
        """ValueError or TypeError for a record that is not one :meth:`to_json` wrote."""
        index, opened = record["i"], record.get("at", 0)
        parent, adjacent = record.get("parent"), record.get("adjacent")
        closed, end_offset = record.get("closed"), record.get("end_offset")
        for value in (index, opened):
            if type(value) is not int or value < 0:
                raise TypeError(f"shard field {value!r} is not a non-negative integer")
        for value in (parent, adjacent, closed, end_offset):
            if value is not None and (type(value) is not int or value < 0):
                raise TypeError(f"shard field {value!r} is not a non-negative integer")
        start, end = record["start"], record["end"]
        if not (isinstance(start, str) and isinstance(end, str) and start.isdecimal() and end.isdecimal()):
            raise TypeError("hash keys must be decimal strings")
        shard = cls(index, int(start), int(end), parent, adjacent, opened, closed, end_offset)
        if not 0 <= shard.start <= shard.end <= MAX_HASH_KEY:
            raise ValueError(f"shard {index} has no valid hash-key range")
        return shard


@dataclass(frozen=True, slots=True)
class ShardMap:
    """Every shard a stream ever had, by index; the open ones cover the key space exactly once."""

    shards: tuple[Shard, ...]
    #: Derived in __post_init__: the open shards by range, and their starting hash keys for bisection.
    _open: tuple[Shard, ...] = field(init=False, repr=False, compare=False)
    _starts: list[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.shards:
            raise ValueError("a stream has at least one shard")
        if any(shard.index != i for i, shard in enumerate(self.shards)):
            raise ValueError("shards must be numbered 0, 1, 2, ... in order")
        open_shards = sorted((s for s in self.shards if s.is_open), key=lambda s: s.start)
        expected = 0
        for shard in open_shards:
            if shard.start != expected:
                raise ValueError(f"the open shards do not cover the hash-key space at {expected}")
            expected = shard.end + 1
        if expected != MAX_HASH_KEY + 1:
            raise ValueError("the open shards do not reach the end of the hash-key space")
        object.__setattr__(self, "_open", tuple(open_shards))
        object.__setattr__(self, "_starts", [shard.start for shard in open_shards])

    # --- building -------------------------------------------------------------------------------------------

    @classmethod
    def uniform(cls, count: int, opened_ms: int = 0) -> ShardMap:
        """The map of a stream created with ``count`` shards (or never resharded)."""
        ranges = shard_hash_key_ranges(count)
        return cls(
            tuple(Shard(i, r.starting_hash_key, r.ending_hash_key, opened_ms=opened_ms) for i, r in enumerate(ranges))
        )

    @classmethod
    def from_json(cls, records: Iterable[Any]) -> ShardMap:
        shards = []
        for record in records:
            if not isinstance(record, dict):
                raise TypeError("a shard must be a JSON object")
            shards.append(Shard.from_json(record))
        return cls(tuple(shards))

    def to_json(self) -> list[dict[str, Any]]:
        return [shard.to_json() for shard in self.shards]

    # --- reading --------------------------------------------------------------------------------------------

    @property
    def open_shards(self) -> tuple[Shard, ...]:
        """The open shards, by hash-key range."""
        return self._open

    @property
    def resharded(self) -> bool:
        return len(self.shards) != len(self.open_shards)

    def __len__(self) -> int:
        return len(self.shards)

    def __iter__(self) -> Iterator[Shard]:
        return iter(self.shards)

    def get(self, index: int) -> Shard | None:
        return self.shards[index] if 0 <= index < len(self.shards) else None

    def route(self, hash_key: int) -> int:
        """The partition of the open shard whose range holds ``hash_key``."""
        if not 0 <= hash_key <= MAX_HASH_KEY:
            raise ValueError(f"hash key {hash_key} is outside [0, 2^128 - 1]")
        return self._open[bisect.bisect_right(self._starts, hash_key) - 1].index

    def partition_for(self, partition_key: str, explicit_hash_key: str | None = None) -> int:
        """The partition a record with this partition key (or explicit hash key) is written to."""
        key = (
            parse_explicit_hash_key(explicit_hash_key) if explicit_hash_key is not None else hash_key_of(partition_key)
        )
        return self.route(key)

    def children(self, index: int) -> list[Shard]:
        """The shards opened in place of shard ``index``, in index order: those the reshard that closed it opened
        over its range (every reshard has its own millisecond, see :meth:`_replace_open`)."""
        parent = self.shards[index]
        if parent.is_open:
            return []
        return [s for s in self.shards[index + 1 :] if s.opened_ms == parent.closed_ms and s.overlaps(parent)]

    # --- resharding (each returns a new map; the caller persists it) ---------------------------------------

    def split(self, index: int, new_starting_hash_key: int, now_ms: int) -> ShardMap:
        """Close open shard ``index`` and open two children: ``[start, new - 1]`` and ``[new, end]``."""
        parent = self._open_or_raise(index, "splitting")
        now_ms = self._stamp(now_ms)
        if not parent.start + 1 < new_starting_hash_key < parent.end:
            raise ReshardError(
                f"is not both greater than one plus the shard's StartingHashKey {parent.start} and less than the "
                f"shard's EndingHashKey {parent.end}"
            )
        first = len(self.shards)
        children = (
            Shard(first, parent.start, new_starting_hash_key - 1, parent=index, opened_ms=now_ms),
            Shard(first + 1, new_starting_hash_key, parent.end, parent=index, opened_ms=now_ms),
        )
        return self._replace_open([index], children, now_ms)

    def merge(self, index: int, adjacent: int, now_ms: int) -> ShardMap:
        """Close open shards ``index`` and ``adjacent`` (neighbours in hash-key order) and open one child over both."""
        first = self._open_or_raise(index, "merging")
        second = self._open_or_raise(adjacent, "merging")
        now_ms = self._stamp(now_ms)
        if not (first.end + 1 == second.start or second.end + 1 == first.start):
            raise ReshardError("are not an adjacent pair of shards eligible for merging")
        child = Shard(
            len(self.shards),
            min(first.start, second.start),
            max(first.end, second.end),
            parent=index,
            adjacent_parent=adjacent,
            opened_ms=now_ms,
        )
        return self._replace_open([index, adjacent], (child,), now_ms)

    def scale(self, target: int, now_ms: int) -> ShardMap:
        """UpdateShardCount's UNIFORM_SCALING: every open shard closes and ``target`` new ones split the key space
        evenly. A new shard's parent is the old shard holding its first hash key, its adjacent parent the one holding
        its last when that is another (a new shard spanning more than two old ones names the first and the last)."""
        old = self.open_shards
        now_ms = self._stamp(now_ms)
        first = len(self.shards)
        children = []
        for offset, hash_range in enumerate(shard_hash_key_ranges(target)):
            parent = self.route(hash_range.starting_hash_key)
            last = self.route(hash_range.ending_hash_key)
            children.append(
                Shard(
                    first + offset,
                    hash_range.starting_hash_key,
                    hash_range.ending_hash_key,
                    parent=parent,
                    adjacent_parent=last if last != parent else None,
                    opened_ms=now_ms,
                )
            )
        return self._replace_open([shard.index for shard in old], tuple(children), now_ms)

    def with_end_offset(self, index: int, end_offset: int) -> ShardMap:
        """The map once closed shard ``index``'s last write has landed: it ends before Kafka offset ``end_offset``."""
        shards = list(self.shards)
        shards[index] = replace(shards[index], end_offset=end_offset)
        return ShardMap(tuple(shards))

    def closing(self) -> list[int]:
        """Closed shards whose end offset is not known yet (a close in progress, or cut short by a crash)."""
        return [shard.index for shard in self.shards if not shard.is_open and shard.end_offset is None]

    def _open_or_raise(self, index: int, doing: str) -> Shard:
        shard = self.get(index)
        if shard is None:
            raise LookupError(index)
        if not shard.is_open:
            raise ReshardError(f"has already been merged or split, and thus is not eligible for {doing}")
        return shard

    def _stamp(self, now_ms: int) -> int:
        """A reshard's time: ``now_ms``, or just after the previous reshard, so that each reshard has its own
        millisecond and a closed shard's children are the shards opened at the millisecond it closed."""
        latest = max(max(shard.opened_ms, shard.closed_ms or 0) for shard in self.shards)
        return max(now_ms, latest + 1)

    def _replace_open(self, closing: list[int], children: tuple[Shard, ...], now_ms: int) -> ShardMap:
        shards = list(self.shards)
        for index in closing:
            shards[index] = replace(shards[index], closed_ms=now_ms)
        return ShardMap((*shards, *children))
