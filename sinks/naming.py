"""Object names that are a pure function of (stream, topic, partition, first offset, record time).

A replay after a crash computes the same name for the same records, so it overwrites instead of duplicating.
The shape follows Firehose's suffix ``<stream>-<version>-<yyyy>-<MM>-<dd>-<HH>-<mm>-<ss>-<uuid>``, with the
(topic, partition, zero-padded first offset) in place of the random UUID, so names also sort by offset.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

DATA_EXTENSION = ".parquet"
ERROR_EXTENSION = ".jsonl"
STREAM_VERSION = 1


def record_time(timestamp_ms: int) -> datetime:
    """The UTC instant of a Kafka record timestamp (milliseconds since the epoch)."""
    return datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)


def random_string(topic: str, partition: int, first_offset: int) -> str:
    """Stands in for ``!{firehose:random-string}``: 11 hex characters, stable for the same object."""
    return hashlib.sha256(f"{topic}/{partition}/{first_offset}".encode()).hexdigest()[:11]


def object_name(stream: str, topic: str, partition: int, first_offset: int, when: datetime, extension: str) -> str:
    """The last path segment of an object: deterministic from its first record."""
    stamp = when.strftime("%Y-%m-%d-%H-%M-%S")
    return f"{stream}-{STREAM_VERSION}-{stamp}-{topic}-{partition}-{first_offset:020d}{extension}"
