"""PutRecord and PutRecords on an existing stream: routing to shards, admission, the write, per-record answers.

A record is admitted when its shard's throttle (off unless configured) and the endpoint's in-flight budget both
have room; otherwise it is refused at once with ``ProvisionedThroughputExceededException``, which the AWS SDKs and
the KCL retry. A record Kafka failed before the producer took it is refused the same way (a retry cannot duplicate
it); any other Kafka failure is ``InternalFailure``, as Kinesis reports a failure whose outcome it cannot know.

A record goes to the open shard whose hash-key range holds it (the stream's :class:`~producers.shard_map.ShardMap`).
Writes in flight are counted per stream, so a reshard can wait for every write routed by the old map to land
before it reads where its closed shards end.
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Any

from emulator.aws.admission import InFlightBudget
from emulator.aws.errors import InternalFailure, InvalidArgumentException, ProvisionedThroughputExceededException
from emulator.aws.writer import KafkaWriter, never_written
from emulator.kinesis import sequence
from emulator.kinesis.shapes import MAX_RECORD_DATA, RecordInput
from emulator.kinesis.streams import Stream
from emulator.kinesis.throttle import ShardThrottle
from producers.partitioning import HASH_KEY_SPACE, hash_key_of, shard_id

MAX_PUT_RECORDS_BYTES = 5 * 1024 * 1024
INTERNAL_FAILURE = {"ErrorCode": "InternalFailure", "ErrorMessage": "Internal service failure."}


class Puts:
    """The write half of the Kinesis service, over one writer, throttle and in-flight budget."""

    def __init__(
        self, writer: KafkaWriter, throttle: ShardThrottle | None, budget: InFlightBudget, account_id: str
    ) -> None:
        self._writer = writer
        self._throttle = throttle
        self._budget = budget
        self._account_id = account_id
        #: Writes in flight by stream, each an object of its own; a write is routed in the same step it is added.
        self._in_flight: dict[str, set[asyncio.Event]] = {}

    async def drained(self, stream: str) -> None:
        """Return once every write to ``stream`` routed before this call has an outcome (later writes not waited
        for, so a steady load cannot hold a reshard back)."""
        for write in list(self._in_flight.get(stream, ())):
            await write.wait()

    def _track(self, stream: str) -> asyncio.Event:
        token = asyncio.Event()
        self._in_flight.setdefault(stream, set()).add(token)
        return token

    def _release(self, stream: str, token: asyncio.Event) -> None:
        token.set()
        writes = self._in_flight.get(stream)
        if writes is not None:
            writes.discard(token)
            if not writes:
                del self._in_flight[stream]

    def _refusal(self, stream: Stream, shard: int, *, overloaded: bool) -> str:
        if overloaded:
            return (
                f"Rate exceeded for shard {shard_id(shard)} in stream {stream.name} under account "
                f"{self._account_id}: the endpoint has {self._budget.records} records in flight to Kafka; retry."
            )
        return f"Rate exceeded for shard {shard_id(shard)} in stream {stream.name} under account {self._account_id}."

    async def put_record(self, stream: Stream, record: RecordInput) -> dict[str, Any]:
        if record.size > MAX_RECORD_DATA:
            raise InvalidArgumentException(
                f"Record size ({record.size} bytes of data and partition key) exceeds the limit of "
                f"{MAX_RECORD_DATA} bytes."
            )
        shard = stream.shard_map.partition_for(record.partition_key, record.explicit_hash_key)
        throttle = self._throttle
        if throttle is not None and not throttle.admit(stream.name, shard, record.size, time.monotonic()):
            raise ProvisionedThroughputExceededException(self._refusal(stream, shard, overloaded=False))
        if not self._budget.try_take(record.size):
            raise ProvisionedThroughputExceededException(self._refusal(stream, shard, overloaded=True))
        token = self._track(stream.name)
        try:
            [result] = await self._writer.write(stream.name, [(shard, record.partition_key.encode(), record.data)])
        finally:
            self._budget.give_back(1, record.size)
            self._release(stream.name, token)
        if never_written(result):
            raise ProvisionedThroughputExceededException(self._refusal(stream, shard, overloaded=True))
        if isinstance(result, BaseException):
            raise InternalFailure(f"Kafka did not accept the record: {result!r}")
        return {"ShardId": shard_id(shard), "SequenceNumber": sequence.encode(shard, result), "EncryptionType": "NONE"}

    async def put_records(self, stream: Stream, records: list[RecordInput]) -> dict[str, Any]:
        total = sum(record.size for record in records)
        if total > MAX_PUT_RECORDS_BYTES:
            raise InvalidArgumentException(
                f"Records size ({total} bytes of data and partition keys) exceeds the limit of "
                f"{MAX_PUT_RECORDS_BYTES} bytes per PutRecords request."
            )
        now_s = time.monotonic()
        shard_map = stream.shard_map
        # Never resharded: shard_map.route's answer by one division (a unit test holds them equal).
        even = not shard_map.resharded
        width = HASH_KEY_SPACE // len(shard_map)
        last_shard = len(shard_map) - 1
        throttle, budget = self._throttle, self._budget
        entries: list[dict[str, Any]] = [{}] * len(records)
        to_write: list[tuple[int, bytes, bytes]] = []
        written_at: list[int] = []
        taken = 0
        for index, record in enumerate(records):
            if record.explicit_hash_key is None and even:
                shard = min(hash_key_of(record.partition_key) // width, last_shard)
            else:
                shard = shard_map.partition_for(record.partition_key, record.explicit_hash_key)
            if record.size > MAX_RECORD_DATA:
                entries[index] = {
                    "ErrorCode": "InvalidArgumentException",
                    "ErrorMessage": f"Record size ({record.size} bytes) exceeds the limit of {MAX_RECORD_DATA} bytes.",
                }
            elif throttle is not None and not throttle.admit(stream.name, shard, record.size, now_s):
                entries[index] = self._throttled(stream, shard, overloaded=False)
            elif not budget.try_take(record.size):
                entries[index] = self._throttled(stream, shard, overloaded=True)
            else:
                taken += record.size
                to_write.append((shard, record.partition_key.encode(), record.data))
                written_at.append(index)
        token = self._track(stream.name)
        try:
            results = await self._writer.write(stream.name, to_write) if to_write else []
        finally:
            budget.give_back(len(to_write), taken)
            self._release(stream.name, token)
        shard_ids = _shard_ids(stream.shard_count)
        bases = _sequence_bases(stream.shard_count)
        shift = sequence.OFFSET_SHIFT
        failed = len(records) - len(to_write)
        for index, (shard, _, _), result in zip(written_at, to_write, results, strict=True):
            if type(result) is int:
                entries[index] = {"SequenceNumber": str(bases[shard] + (result << shift)), "ShardId": shard_ids[shard]}
            else:
                failed += 1
                entries[index] = (
                    self._throttled(stream, shard, overloaded=True) if never_written(result) else INTERNAL_FAILURE
                )
        return {"FailedRecordCount": failed, "Records": entries, "EncryptionType": "NONE"}

    def _throttled(self, stream: Stream, shard: int, *, overloaded: bool) -> dict[str, str]:
        return {
            "ErrorCode": "ProvisionedThroughputExceededException",
            "ErrorMessage": self._refusal(stream, shard, overloaded=overloaded),
        }


@functools.cache
def _shard_ids(shard_count: int) -> tuple[str, ...]:
    return tuple(shard_id(i) for i in range(shard_count))


@functools.cache
def _sequence_bases(shard_count: int) -> tuple[int, ...]:
    return tuple(sequence.shard_base(i) for i in range(shard_count))
