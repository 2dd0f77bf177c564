"""Kinesis partitioning: partition key → 128-bit hash key → shard, as Kinesis Data Streams does it.

The one rule, shared by the aiokafka producer path and the emulator's Kinesis HTTP API, so that a key lands in
the same shard (Kafka partition) whichever way it was written:

* the hash key of a record is the MD5 digest of its partition key's UTF-8 bytes, read as a big-endian unsigned
  128-bit integer, unless the caller gives an ``ExplicitHashKey`` (a decimal string in [0, 2**128 - 1]);
* a stream created with ``n`` shards splits [0, 2**128 - 1] evenly: with ``w = 2**128 // n``, shard ``i`` owns
  ``[i * w, (i + 1) * w - 1]``, and the last shard also takes the remainder up to ``2**128 - 1``. This is what
  AWS returns from ``CreateStream`` (for 3 shards the first range ends at ...070484); some emulators round the
  other way at the edges, which moves a handful of hash keys to the neighbouring shard.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

HASH_KEY_SPACE = 2**128
MAX_HASH_KEY = HASH_KEY_SPACE - 1
MAX_PARTITION_KEY_LENGTH = 256


class HashKeyRange(NamedTuple):
    starting_hash_key: int
    ending_hash_key: int


def hash_key_of(partition_key: str) -> int:
    """The 128-bit hash key Kinesis derives from a partition key (MD5 of its UTF-8 bytes, big-endian)."""
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8"), usedforsecurity=False).digest(), "big")


def parse_explicit_hash_key(value: str) -> int:
    """Parse an ``ExplicitHashKey``; raises ``ValueError`` unless it is a decimal integer in the key space."""
    if not value.isdecimal():
        raise ValueError(f"ExplicitHashKey must be a decimal integer, got {value!r}")
    key = int(value)
    if key > MAX_HASH_KEY:
        raise ValueError(f"ExplicitHashKey must be at most 2^128 - 1, got {value}")
    return key


def shard_hash_key_ranges(shard_count: int) -> list[HashKeyRange]:
    """The hash-key range of each shard of a stream created with ``shard_count`` shards."""
    if shard_count < 1:
        raise ValueError(f"a stream has at least one shard, got {shard_count}")
    width = HASH_KEY_SPACE // shard_count
    ranges = [HashKeyRange(i * width, (i + 1) * width - 1) for i in range(shard_count)]
    ranges[-1] = HashKeyRange(ranges[-1].starting_hash_key, MAX_HASH_KEY)
    return ranges


def shard_for_hash_key(hash_key: int, shard_count: int) -> int:
    """Index of the shard whose range holds ``hash_key``, for the even split of :func:`shard_hash_key_ranges`."""
    if not 0 <= hash_key <= MAX_HASH_KEY:
        raise ValueError(f"hash key {hash_key} is outside [0, 2^128 - 1]")
    if shard_count < 1:
        raise ValueError(f"a stream has at least one shard, got {shard_count}")
    return min(hash_key // (HASH_KEY_SPACE // shard_count), shard_count - 1)


def shard_for_partition_key(partition_key: str, shard_count: int, explicit_hash_key: str | None = None) -> int:
    """The shard (= Kafka partition) a record with this partition key goes to."""
    if explicit_hash_key is not None:
        return shard_for_hash_key(parse_explicit_hash_key(explicit_hash_key), shard_count)
    return shard_for_hash_key(hash_key_of(partition_key), shard_count)


def shard_id(index: int) -> str:
    """Kinesis shard id of shard ``index``: ``shardId-000000000000``."""
    return f"shardId-{index:012d}"
