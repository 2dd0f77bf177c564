"""When to write: Firehose's buffering hints, and the planned cut a restart must honour. Pure logic, no I/O."""

from __future__ import annotations

from array import array
from dataclasses import dataclass
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


class PartitionBuffer:
    """Raw records of one source partition, in offset order, waiting for the next write.

    Held packed from the start, as the write worker receives them: the records joined by newlines in one
    ``bytearray`` and three columns of 8-byte integers. A list of ``bytes`` would cost about 40 bytes more per
    record, and a joined copy made at write time would hold every record twice at the peak.
    """

    def __init__(self, partition: int) -> None:
        self.partition = partition
        self.data = bytearray()
        self.lengths: array[int] = array("q")
        self.offsets: array[int] = array("q")
        self.timestamps: array[int] = array("q")
        #: Bytes of the records themselves (separators not counted): what the size hint compares with.
        self.size = 0

    def add(self, offset: int, timestamp_ms: int, value: bytes) -> None:
        self.extend([offset], [timestamp_ms], [value], len(value))

    def extend(self, offsets: list[int], timestamps: list[int], values: list[bytes], size: int) -> None:
        """Append records given column-wise (``size`` is the total length of ``values``)."""
        if not values:
            return
        if self.offsets:
            self.data += b"\n"
        self.data += b"\n".join(values)
        self.lengths.extend(map(len, values))
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

    @property
    def values(self) -> list[bytes]:
        """The records one by one (tests and the per-record path only: this copies them)."""
        return PackedRecords(bytes(self.data), self.lengths).values


@dataclass
class PackedRecords:
    """Raw records as one newline-joined block and their lengths: what the JSON reader takes, and cheap to pickle
    (one object instead of one per record). The block is ``bytes`` in the worker, and the consuming side's own
    ``bytearray`` (never copied) while it is sent."""

    joined: bytes | bytearray
    lengths: array[int]

    @classmethod
    def of(cls, values: list[bytes]) -> PackedRecords:
        return cls(b"\n".join(values), array("q", map(len, values)))

    def __len__(self) -> int:
        return len(self.lengths)

    @property
    def values(self) -> list[bytes]:
        """Every record as its own ``bytes`` (a copy of them all: tests only; the sink reads :meth:`record`)."""
        return [self.record(i) for i in range(len(self.lengths))]

    @cached_property
    def _starts(self) -> array[int]:
        starts, position = array("q"), 0
        for length in self.lengths:
            starts.append(position)
            position += length + 1
        return starts

    def record(self, index: int) -> bytes:
        """One record (error lines, screening probes): 8 bytes a record of positions the first time, not a copy of
        every record."""
        start = self._starts[index]
        return bytes(self.joined[start : start + self.lengths[index]])


@dataclass
class PackedBuffer:
    """One partition's buffer as the write worker receives it."""

    partition: int
    records: PackedRecords
    offsets: array[int]
    timestamps: array[int]

    @classmethod
    def pack(cls, buffer: PartitionBuffer) -> PackedBuffer:
        """The buffer as sent: its own block and columns, not copies."""
        return cls(buffer.partition, PackedRecords(buffer.data, buffer.lengths), buffer.offsets, buffer.timestamps)

    def release(self) -> None:
        """Drop the records (a converted write's are not needed again: a restarted worker is sent them anew)."""
        self.records = PackedRecords(b"", array("q"))

    @property
    def values(self) -> list[bytes]:
        return self.records.values

    def record(self, index: int) -> bytes:
        return self.records.record(index)

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
