"""When to write: Firehose's buffering hints, and the planned cut a restart must honour. Pure logic, no I/O."""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from sinks.config import BufferingHints


class FlushReason(StrEnum):
    SIZE = "size"
    INTERVAL = "interval"
    RECOVERY = "recovery"
    SHUTDOWN = "shutdown"


def flush_reason(hints: BufferingHints, buffered_bytes: int, oldest_age_s: float | None) -> FlushReason | None:
    """Why the buffer should be written now, or ``None``: size or interval, whichever is reached first.

    ``oldest_age_s`` is how long the oldest buffered record has waited (``None`` for an empty buffer).
    """
    if oldest_age_s is None:
        return None
    if buffered_bytes >= hints.size_bytes:
        return FlushReason.SIZE
    if oldest_age_s >= hints.interval_s:
        return FlushReason.INTERVAL
    return None


@dataclass
class PartitionBuffer:
    """Raw records of one source partition, in offset order, waiting for the next write."""

    partition: int
    values: list[bytes] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    timestamps: list[int] = field(default_factory=list)
    size: int = 0

    def add(self, offset: int, timestamp_ms: int, value: bytes) -> None:
        self.values.append(value)
        self.offsets.append(offset)
        self.timestamps.append(timestamp_ms)
        self.size += len(value)

    def extend(self, offsets: list[int], timestamps: list[int], values: list[bytes], size: int) -> None:
        """Append records given column-wise (``size`` is the total length of ``values``)."""
        self.values.extend(values)
        self.offsets.extend(offsets)
        self.timestamps.extend(timestamps)
        self.size += size

    def __len__(self) -> int:
        return len(self.offsets)

    @property
    def first_offset(self) -> int:
        return self.offsets[0]

    @property
    def last_offset(self) -> int:
        return self.offsets[-1]


@dataclass
class PackedRecords:
    """Raw records as one newline-joined ``bytes`` and their lengths: what the JSON reader takes, and cheap to pickle
    (one object instead of one per record)."""

    joined: bytes
    lengths: array[int]

    @classmethod
    def of(cls, values: list[bytes]) -> PackedRecords:
        return cls(b"\n".join(values), array("q", map(len, values)))

    def __len__(self) -> int:
        return len(self.lengths)

    @cached_property
    def values(self) -> list[bytes]:
        """The records one by one (for the per-record path and error lines only)."""
        out, pos, joined = [], 0, self.joined
        for length in self.lengths:
            out.append(joined[pos : pos + length])
            pos += length + 1
        return out


@dataclass
class PackedBuffer:
    """One partition's buffer as the write worker receives it."""

    partition: int
    records: PackedRecords
    offsets: array[int]
    timestamps: array[int]

    @classmethod
    def pack(cls, buffer: PartitionBuffer) -> PackedBuffer:
        return cls(
            buffer.partition,
            PackedRecords.of(buffer.values),
            array("q", buffer.offsets),
            array("q", buffer.timestamps),
        )

    @property
    def values(self) -> list[bytes]:
        return self.records.values

    def __len__(self) -> int:
        return len(self.offsets)


PLAN_PREFIX = "kemu-cut:"


def encode_plan(last_offset: int) -> str:
    """Commit metadata that records where the object being written ends (its last offset, inclusive)."""
    return f"{PLAN_PREFIX}{last_offset}"


def decode_plan(metadata: str | None) -> int | None:
    """The planned last offset from commit metadata, or ``None`` when no write was in flight."""
    if not metadata or not metadata.startswith(PLAN_PREFIX):
        return None
    try:
        return int(metadata.removeprefix(PLAN_PREFIX))
    except ValueError:
        return None


def admits(cut: int | None, offset: int) -> bool:
    """Whether a record at ``offset`` belongs in the buffer while a planned cut is pending."""
    return cut is None or offset <= cut
