"""A lean reader of one topic's partitions: each record's offset and value, and nothing else.

Why not ``AIOKafkaConsumer.getmany``: it turns every record into a ``ConsumerRecord`` (a Python dataclass of eleven
fields) in a Python generator, about 4 to 5 µs a record on the 2-core benchmark machine, which made the consumer,
not the query, the engine's limit. The engine needs only each record's offset and value. This reader sends Fetch
requests through aiokafka's own client and walks the responses with aiokafka's C record parser, keeping those two
fields: in the same run it read the benchmark's million records three to five times as fast as ``getmany`` (see
``BENCHMARKS.md``). It has no consumer group: the engine assigns partitions itself and keeps its offsets in its
checkpoints.

It reads like aiokafka's consumer with ``isolation_level="read_committed"``, as the Kinesis API's GetRecords and the
sinks do: the broker returns records up to the last stable offset only (an open transaction holds the rest back),
batches of aborted transactions are skipped with the list of aborted transactions the broker sends, control batches
are skipped, CRCs checked, compressed batches decompressed by the parser, records before the requested offset (a
fetch may start inside a batch) dropped. :meth:`PartitionReader.highwater` is therefore the last stable offset: the
end of what can be read now.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aiokafka import TopicPartition
from aiokafka import errors as kafka_errors
from aiokafka.client import AIOKafkaClient, CoordinationType
from aiokafka.protocol.commit import OffsetCommitRequest
from aiokafka.protocol.fetch import FetchRequest
from aiokafka.protocol.offset import OffsetRequest
from aiokafka.record.control_record import ABORT_MARKER, ControlRecord
from aiokafka.record.memory_records import MemoryRecords

log = logging.getLogger(__name__)

_READ_COMMITTED = 1
#: ListOffsets' special timestamps.
_EARLIEST, _LATEST = -2, -1
#: Fetch sizes (per partition, per request): large fetches amortise the per-request cost.
MAX_PARTITION_BYTES = 8 << 20
MAX_BYTES = 64 << 20
#: The same sizes in ``AIOKafkaConsumer``'s terms, for a consumer that should fetch as the reader does (the
#: benchmark's ``getmany`` ceiling).
CONSUMER_FETCH: dict[str, Any] = {"max_partition_fetch_bytes": MAX_PARTITION_BYTES, "fetch_max_bytes": MAX_BYTES}
#: Errors that mean the metadata is stale: refresh it and retry.
_LEADERSHIP_ERRORS = (
    kafka_errors.NotLeaderForPartitionError,
    kafka_errors.UnknownTopicOrPartitionError,
    kafka_errors.LeaderNotAvailableError,
)
#: Attempts of a ListOffsets request (a metadata refresh and ``retry_backoff_ms`` between two).
_LIST_ATTEMPTS = 20


def _is_abort_marker(batch: Any) -> bool:
    """Whether a control batch ends a transaction by aborting it (rather than committing it)."""
    for record in batch:
        return bool(record.key is not None and ControlRecord.parse(record.key) == ABORT_MARKER)
    return False


def _retriable(error: type[Exception]) -> bool:
    return bool(getattr(error, "retriable", False)) or error in _LEADERSHIP_ERRORS


class ReaderError(Exception):
    """A source partition cannot be read (not a transient broker condition: those are retried)."""


@dataclass
class _Buffered:
    """Records of one partition fetched and not handed out yet; ``end`` is the offset after the last batch (it
    may be beyond the last record: control batches and compacted records leave gaps)."""

    offsets: list[int]
    values: list[bytes | None]
    end: int


@dataclass
class Fetched:
    """What one :meth:`PartitionReader.fetch` hands out: per partition (partition, offsets, values) in offset
    order, and the next offset to read per partition that moved."""

    parts: list[tuple[int, list[int], list[bytes | None]]] = field(default_factory=list)
    next_offsets: dict[int, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(len(offsets) for _, offsets, _ in self.parts)


class PartitionReader:
    """Reads the assigned partitions of ``topic`` from the positions it is given."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        *,
        max_wait_ms: int = 100,
        max_partition_bytes: int = MAX_PARTITION_BYTES,
        max_bytes: int = MAX_BYTES,
        retry_backoff_ms: int = 100,
        client_id: str = "kemu-analytics",
    ) -> None:
        self.topic = topic
        self.max_wait_ms = max_wait_ms
        self.max_partition_bytes = max_partition_bytes
        self.max_bytes = max_bytes
        self.retry_backoff_s = retry_backoff_ms / 1000
        self._client = AIOKafkaClient(bootstrap_servers=bootstrap, client_id=client_id)
        self._positions: dict[int, int] = {}
        self._highwater: dict[int, int] = {}
        self._buffered: dict[int, _Buffered] = {}
        #: Where the next hand-out starts, so a capped fetch does not always favour the same partitions.
        self._turn = 0

    async def start(self) -> None:
        await self._client.bootstrap()
        self._client.set_topics([self.topic])

    async def close(self) -> None:
        await self._client.close()

    # -- positions ---------------------------------------------------------------------------------------------

    def assign(self, partitions: Sequence[int]) -> None:
        """Read these partitions; each needs a position (:meth:`seek` or :meth:`seek_to`) before a fetch."""
        self._positions = {p: -1 for p in partitions}
        self._highwater.clear()
        self._buffered.clear()

    @property
    def partitions(self) -> list[int]:
        return list(self._positions)

    def seek(self, partition: int, offset: int) -> None:
        self._positions[partition] = offset
        self._buffered.pop(partition, None)

    async def seek_to(self, partitions: Sequence[int], where: Literal["earliest", "latest"]) -> None:
        for partition, offset in (await self._list_offsets(partitions, where)).items():
            self.seek(partition, offset)

    def position(self, partition: int) -> int:
        """The offset of the next record :meth:`fetch` hands out for ``partition``."""
        return self._positions[partition]

    def highwater(self, partition: int) -> int | None:
        """The partition's end offset as of the last fetch that reached it (None before)."""
        return self._highwater.get(partition)

    async def resume(
        self, partitions: Sequence[int], offsets: Mapping[int, int], start_from: Literal["earliest", "latest"]
    ) -> dict[int, int]:
        """Read ``partitions``: each from its offset in ``offsets`` (a checkpoint's), the others from ``start_from``.
        Returns where those others start."""
        self.assign(partitions)
        unread = []
        for partition in partitions:
            if partition in offsets:
                self.seek(partition, offsets[partition])
            else:
                unread.append(partition)
        if unread:
            await self.seek_to(unread, start_from)
        return {partition: self.position(partition) for partition in unread}

    def backlog(self) -> tuple[set[int], int]:
        """The partitions with records not read yet (or not known to have none: they are never idle), and how many
        records are known to be unread."""
        busy = set()
        unread = 0
        for partition in self._positions:
            highwater = self._highwater.get(partition)
            position = self._positions[partition]
            if highwater is None or position < highwater:
                busy.add(partition)
            if highwater is not None:
                unread += max(highwater - position, 0)
        return busy, unread

    # -- reading -----------------------------------------------------------------------------------------------

    async def fetch(self, max_records: int) -> Fetched:
        """Up to ``max_records`` records: those already fetched and not handed out, else what the brokers return
        within ``max_wait_ms`` (possibly none). Transient broker errors are logged and retried on the next call."""
        if not self._buffered:
            await self._fetch_from_brokers()
        return self._hand_out(max_records)

    def _hand_out(self, max_records: int) -> Fetched:
        fetched = Fetched()
        order = sorted(self._buffered)
        if not order:
            return fetched
        self._turn = (self._turn + 1) % len(order)
        left = max_records
        for partition in order[self._turn :] + order[: self._turn]:
            if left == 0:
                break
            buffered = self._buffered[partition]
            if len(buffered.offsets) <= left:
                del self._buffered[partition]
                offsets, values, position = buffered.offsets, buffered.values, buffered.end
            else:
                offsets, values = buffered.offsets[:left], buffered.values[:left]
                position = buffered.offsets[left]
                buffered.offsets, buffered.values = buffered.offsets[left:], buffered.values[left:]
            left -= len(offsets)
            self._positions[partition] = position
            fetched.next_offsets[partition] = position
            if offsets:
                fetched.parts.append((partition, offsets, values))
        return fetched

    async def _fetch_from_brokers(self) -> None:
        by_leader: dict[int, list[tuple[int, int, int]]] = {}
        missing_leader = False
        for partition, position in self._positions.items():
            if position < 0:
                raise ReaderError(f"partition {partition} of {self.topic!r} has no position to read from")
            leader = self._leader(partition)
            if leader is None:
                missing_leader = True
                continue
            by_leader.setdefault(leader, []).append((partition, position, self.max_partition_bytes))
        if missing_leader:
            await self._refresh_metadata()
        if not by_leader:
            await asyncio.sleep(self.retry_backoff_s)
            return
        requests = {
            leader: FetchRequest(self.max_wait_ms, 1, self.max_bytes, _READ_COMMITTED, [(self.topic, parts)])
            for leader, parts in by_leader.items()
        }
        answers = await asyncio.gather(
            *(self._client.send(leader, request) for leader, request in requests.items()), return_exceptions=True
        )
        retry = False
        for (leader, request), answer in zip(requests.items(), answers, strict=True):
            if isinstance(answer, kafka_errors.KafkaError):
                log.warning("fetch from broker %s failed (%s); retrying", leader, answer)
                retry = True
                continue
            if isinstance(answer, BaseException):
                raise answer
            fetched_at = {partition: offset for partition, offset, _ in request.topics[0][1]}
            retry |= await self._take_response(answer, fetched_at)
        if retry:
            await self._refresh_metadata()
            await asyncio.sleep(self.retry_backoff_s)

    async def _take_response(self, response: Any, fetched_at: dict[int, int]) -> bool:
        """Buffer the records of one Fetch response; True when a partition needs a retry."""
        retry = False
        out_of_range = []
        for _topic, partitions in response.topics:
            for partition, error_code, highwater, *rest in partitions:
                if self._positions.get(partition) != fetched_at[partition]:
                    continue  # sought elsewhere while the fetch was in flight
                error = kafka_errors.for_code(error_code)
                if error is kafka_errors.NoError:
                    # Fetch v4+: the last stable offset comes first and the aborted transactions right before the
                    # records (v11 puts the preferred read replica between them), as aiokafka's fetcher reads them.
                    stable = rest[0] if response.API_VERSION >= 4 and rest[0] >= 0 else highwater
                    aborted = (
                        (rest[2] if response.API_VERSION >= 11 else rest[-2]) if response.API_VERSION >= 4 else None
                    )
                    self._highwater[partition] = stable
                    self._buffer(partition, fetched_at[partition], rest[-1], aborted)
                elif error is kafka_errors.OffsetOutOfRangeError:
                    out_of_range.append(partition)
                elif _retriable(error):
                    log.warning("fetch of %s[%d]: %s; retrying", self.topic, partition, error.__name__)
                    retry = True
                else:
                    raise ReaderError(f"cannot read partition {partition} of {self.topic!r}: {error.__name__}")
        if out_of_range:
            await self._reset_out_of_range(out_of_range)
        return retry

    def _buffer(self, partition: int, start: int, data: bytes | None, aborted: Sequence[Any] | None = None) -> None:
        records = MemoryRecords(data or b"")
        offsets: list[int] = []
        values: list[bytes | None] = []
        end = start
        # (producer id, first offset) of the transactions aborted in this range, by first offset: a producer's
        # batches count as aborted from that offset until its abort marker.
        pending = sorted(((int(a[0]), int(a[1])) for a in aborted or ()), key=lambda a: a[1])
        aborting: set[int] = set()
        while records.has_next():
            batch = records.next_batch()
            if batch is None:
                break
            if not batch.validate_crc():
                raise ReaderError(f"corrupt record batch (CRC mismatch) at offset {end} of {self.topic}[{partition}]")
            producer = batch.producer_id
            if producer is not None and producer >= 0:
                while pending and pending[0][1] <= batch.base_offset:
                    aborting.add(pending.pop(0)[0])
                if batch.is_control_batch and _is_abort_marker(batch):
                    aborting.discard(producer)
                elif batch.is_transactional and producer in aborting:
                    end = max(end, batch.next_offset)
                    continue
            if not batch.is_control_batch:
                for record in batch:
                    offset = record.offset
                    if offset >= start:
                        offsets.append(offset)
                        values.append(record.value)
            end = max(end, batch.next_offset)
        if end > start:
            self._buffered[partition] = _Buffered(offsets, values, end)
        elif records.size_in_bytes() > 0:
            # The broker always returns a whole first batch however large; a partial one means the limits are odd.
            raise ReaderError(
                f"a record batch at offset {start} of {self.topic}[{partition}] is larger than the fetch size "
                f"({self.max_partition_bytes:,} bytes)"
            )

    async def _reset_out_of_range(self, partitions: list[int]) -> None:
        # The position is outside the log: retention deleted records not read yet, or the topic was deleted and
        # made anew. Reading from the earliest record left skips nothing that still exists; say what was lost.
        earliest = await self._list_offsets(partitions, "earliest")
        for partition, offset in earliest.items():
            log.warning(
                "offset %d of %s[%d] is no longer in the log (retention, or the topic was re-created); reading "
                "from its earliest offset, %d",
                self._positions[partition],
                self.topic,
                partition,
                offset,
            )
            self.seek(partition, offset)

    async def _list_offsets(self, partitions: Sequence[int], where: Literal["earliest", "latest"]) -> dict[int, int]:
        stamp = _EARLIEST if where == "earliest" else _LATEST
        for attempt in range(_LIST_ATTEMPTS):
            by_leader: dict[int, list[tuple[int, int]]] = {}
            for partition in partitions:
                leader = self._leader(partition)
                if leader is None:
                    break
                by_leader.setdefault(leader, []).append((partition, stamp))
            else:
                try:
                    found: dict[int, int] = {}
                    for leader, parts in by_leader.items():
                        request = OffsetRequest(-1, _READ_COMMITTED, [(self.topic, parts)])
                        response = await self._client.send(leader, request)
                        for _topic, answers in response.topics:
                            for partition, error_code, *rest in answers:
                                error = kafka_errors.for_code(error_code)
                                if error is not kafka_errors.NoError:
                                    raise error(f"{self.topic}[{partition}]")
                                found[partition] = rest[-1]
                    return found
                except kafka_errors.KafkaError as exc:
                    if not _retriable(type(exc)):
                        raise ReaderError(f"cannot list the {where} offsets of {self.topic!r}: {exc!r}") from exc
                    log.warning("listing offsets of %s failed (%r); retrying (attempt %d)", self.topic, exc, attempt)
            await self._refresh_metadata()
            await asyncio.sleep(self.retry_backoff_s)
        raise ReaderError(
            f"cannot list the {where} offsets of {self.topic!r}: no leader, or a retriable error, in all "
            f"{_LIST_ATTEMPTS} attempts"
        )

    async def commit(self, group: str, offsets: dict[int, int]) -> None:
        """Commit ``offsets`` (next offset per partition) for consumer group ``group``, as a consumer with manually
        assigned partitions does (no generation, no member): progress that Kafka's tooling can show. Raises
        :class:`ReaderError` when the broker refuses it."""
        if not offsets:
            return
        try:
            coordinator = await self._client.coordinator_lookup(CoordinationType.GROUP, group)
            parts = [(partition, offset, "") for partition, offset in sorted(offsets.items())]
            request = OffsetCommitRequest(group, -1, "", -1, [(self.topic, parts)])
            response = await self._client.send(coordinator, request)
        except kafka_errors.KafkaError as exc:
            raise ReaderError(f"cannot commit the offsets of group {group!r}: {exc!r}") from exc
        for _topic, answers in response.topics:
            for partition, error_code in answers:
                error = kafka_errors.for_code(error_code)
                if error is not kafka_errors.NoError:
                    raise ReaderError(
                        f"cannot commit offset of {self.topic}[{partition}] for {group!r}: {error.__name__}"
                    )

    def _leader(self, partition: int) -> int | None:
        """The broker leading ``partition`` as the metadata knows it, None when it knows none."""
        leader = self._client.cluster.leader_for_partition(TopicPartition(self.topic, partition))
        return None if leader is None or leader < 0 else int(leader)

    async def _refresh_metadata(self) -> None:
        await self._client.force_metadata_update()
