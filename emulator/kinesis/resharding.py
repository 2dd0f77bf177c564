"""SplitShard, MergeShards and UpdateShardCount on Kafka, with AWS's rules, errors and lineage.

A reshard checks the request against the stream's shard map, answers at once and leaves the stream UPDATING while
it completes in the background, in an order a crash at any point can resume from:

1. the new map (parents closed, children as new shard numbers) is saved in the stream's metadata record;
2. the topic grows to one partition per shard ever had (a restart finds a saved map with missing partitions and
   adds them, :meth:`~emulator.kinesis.streams.StreamStore.start`);
3. writes switch to the new map; the writes routed by the old one are waited for;
4. each closed shard's end (the Kafka offset after its last record) is read and saved, which gives it its
   ``EndingSequenceNumber`` and lets its readers see ``ChildShards``; a restart completes closes left without one
   (:meth:`Resharder.recover`);
5. the stream is ACTIVE again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from emulator.aws.errors import (
    InvalidArgumentException,
    LimitExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from emulator.kinesis.puts import Puts
from emulator.kinesis.reader import ReaderPool
from emulator.kinesis.reshard_shapes import MergeShardsInput, SplitShardInput, UpdateShardCountInput
from emulator.kinesis.streams import Stream, StreamStore
from emulator.kinesis.tokens import shard_index
from producers.partitioning import shard_id
from producers.shard_map import ReshardError, ShardMap

log = logging.getLogger(__name__)

#: AWS's per-stream ceiling for UpdateShardCount, and how often it may run.
MAX_SHARDS_PER_STREAM = 10_000
MAX_SCALINGS_PER_DAY = 10
DAY_MS = 86_400_000


class Resharder:
    """The resharding operations of one Kinesis service, over its stream store, write path and readers."""

    def __init__(
        self,
        store: StreamStore,
        puts: Puts,
        readers: ReaderPool,
        *,
        account_id: str,
        arn: Callable[[str], str],
        shard_limit: int,
        clock_ms: Callable[[], int],
        background: Callable[[Coroutine[Any, Any, None]], None],
        delay_s: float = 0.0,
    ) -> None:
        self._store = store
        self._puts = puts
        self._readers = readers
        self._account_id = account_id
        self._arn = arn
        self._shard_limit = shard_limit
        self._clock_ms = clock_ms
        self._background = background
        self._delay_s = delay_s

    # --- the operations ---------------------------------------------------------------------------------------

    async def split_shard(self, request: SplitShardInput) -> dict[str, Any]:
        stream = await self._active_stream(request.stream)
        index = self._shard_or_raise(stream, request.shard)
        await self._check_account_limit(stream, 1)
        try:
            new_map = stream.shard_map.split(index, request.new_starting_hash_key, self._clock_ms())
        except ReshardError as error:
            if "eligible" in str(error):
                raise self._shard_refusal(stream, index, error) from None
            raise InvalidArgumentException(
                f"NewStartingHashKey {request.new_starting_hash_key} used in SplitShard() on shard "
                f"{shard_id(index)} in stream {stream.name} under account {self._account_id} {error}."
            ) from None
        self._begin(stream, new_map)
        return {}

    async def merge_shards(self, request: MergeShardsInput) -> dict[str, Any]:
        stream = await self._active_stream(request.stream)
        index = self._shard_or_raise(stream, request.shard)
        adjacent = self._shard_or_raise(stream, request.adjacent_shard)
        try:
            new_map = stream.shard_map.merge(index, adjacent, self._clock_ms())
        except ReshardError as error:
            if "adjacent pair" in str(error):
                raise InvalidArgumentException(
                    f"Shards {shard_id(index)} and {shard_id(adjacent)} in stream {stream.name} under account "
                    f"{self._account_id} {error}."
                ) from None
            closed = index if not stream.shard_map.shards[index].is_open else adjacent
            raise self._shard_refusal(stream, closed, error) from None
        self._begin(stream, new_map)
        return {}

    async def update_shard_count(self, request: UpdateShardCountInput) -> dict[str, Any]:
        stream = await self._active_stream(request.stream)
        current, target = stream.open_shard_count, request.target
        where = f"UpdateShardCount for stream {stream.name} under account {self._account_id}"
        if target > 2 * current:
            raise InvalidArgumentException(
                f"{where} failed: TargetShardCount {target} is more than double the current shard count {current}."
            )
        if 2 * target < current:
            raise InvalidArgumentException(
                f"{where} failed: TargetShardCount {target} is less than half the current shard count {current}."
            )
        if target > MAX_SHARDS_PER_STREAM:
            raise InvalidArgumentException(
                f"{where} failed: a stream cannot have more than {MAX_SHARDS_PER_STREAM} shards."
            )
        answer = {
            "StreamName": stream.name,
            "CurrentShardCount": current,
            "TargetShardCount": target,
            "StreamARN": self._arn(stream.name),
        }
        if target == current:  # nothing to change: closing every shard to reopen the same ranges helps no one
            return answer
        now = self._clock_ms()
        recent = [at for at in stream.scalings if now - at < DAY_MS]
        if len(recent) >= MAX_SCALINGS_PER_DAY:
            raise LimitExceededException(
                f"{where} failed: the shard count of a stream can be updated at most {MAX_SCALINGS_PER_DAY} times "
                "in a rolling 24-hour period."
            )
        await self._check_account_limit(stream, target - current)
        stream.scalings = [*recent, now]
        self._begin(stream, stream.shard_map.scale(target, now))
        return answer

    # --- checks --------------------------------------------------------------------------------------------

    async def _active_stream(self, name: str) -> Stream:
        stream = await self._store.get_or_raise_not_found(name)
        if stream.status != "ACTIVE":
            raise ResourceInUseException(
                f"Stream {stream.name} under account {self._account_id} not ACTIVE, instead in state {stream.status}"
            )
        return stream

    def _shard_or_raise(self, stream: Stream, shard: str) -> int:
        index = shard_index(shard)
        if index is None or stream.shard_map.get(index) is None:
            raise ResourceNotFoundException(
                f"Could not find shard {shard} in stream {stream.name} under account {self._account_id}."
            )
        return index

    def _shard_refusal(self, stream: Stream, index: int, error: ReshardError) -> InvalidArgumentException:
        return InvalidArgumentException(
            f"Shard {shard_id(index)} in stream {stream.name} under account {self._account_id} {error}."
        )

    async def _check_account_limit(self, stream: Stream, added: int) -> None:
        if added <= 0:
            return
        used = sum(other.open_shard_count for other in await self._store.all())
        if used + added > self._shard_limit:
            raise LimitExceededException(
                f"This request would exceed the shard limit for the account {self._account_id}. Current shard count "
                f"for the account: {used}. Limit: {self._shard_limit}. Number of additional shards that would have "
                f"resulted from this request: {added}."
            )

    # --- completing --------------------------------------------------------------------------------------------

    def _begin(self, stream: Stream, new_map: ShardMap) -> None:
        stream.status = "UPDATING"
        self._background(self._complete(stream, new_map))

    async def _complete(self, stream: Stream, new_map: ShardMap) -> None:
        try:
            await self._store.save(stream, new_map)
            await self._store.add_partitions(stream.name, len(new_map))
            stream.shard_map = new_map
            await self._puts.drained(stream.name)
            await self._close_ends(stream)
            await asyncio.sleep(self._delay_s)
        except Exception:
            log.exception("resharding stream %s did not complete; a restart of the server completes it", stream.name)
        finally:
            if stream.status == "UPDATING":
                stream.status = "ACTIVE"

    async def _close_ends(self, stream: Stream) -> None:
        """Record where each closing shard ends, now that no write can reach it through this API."""
        closing = stream.shard_map.closing()
        if not closing:
            return
        shard_map = stream.shard_map
        for index in closing:
            reader = await self._readers.get(stream.name, index)
            shard_map = shard_map.with_end_offset(index, (await reader.bounds())[1])
        await self._store.save(stream, shard_map)
        stream.shard_map = shard_map

    async def recover(self) -> None:
        """Complete the closes a stop cut short (their ends were never saved)."""
        for stream in await self._store.all():
            if stream.shard_map.closing():
                try:
                    await self._close_ends(stream)
                except Exception:
                    log.exception("completing the reshard of stream %s failed", stream.name)
