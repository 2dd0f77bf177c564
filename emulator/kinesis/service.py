"""The Kinesis Data Streams operations: one method per operation, taking a parsed request, returning a response.

Responses are plain dicts in the wire's member names; blobs are ``bytes`` and timestamps :class:`AwsTimestamp`,
rendered by the protocol codec of the request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from typing import Any

from emulator.aws.admission import InFlightBudget
from emulator.aws.errors import (
    InvalidArgumentException,
    LimitExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from emulator.aws.protocol import AwsTimestamp
from emulator.aws.writer import KafkaWriter
from emulator.config.kinesis import KinesisSettings
from emulator.kinesis import iterators, lineage, sequence
from emulator.kinesis.fanout import FanOut
from emulator.kinesis.puts import Puts
from emulator.kinesis.reader import ReaderPool, wire_records
from emulator.kinesis.resharding import Resharder
from emulator.kinesis.shapes import (
    MAX_RETENTION_HOURS,
    MIN_RETENTION_HOURS,
    SHARD_LEVEL_METRICS,
    AddTagsInput,
    CreateStreamInput,
    DescribeStreamInput,
    EnhancedMonitoringInput,
    GetRecordsInput,
    GetShardIteratorInput,
    ListShardsInput,
    ListStreamsInput,
    ListTagsInput,
    PutRecordInput,
    PutRecordsInput,
    RemoveTagsInput,
    RetentionInput,
    StreamInput,
    tag_characters_refusal,
)
from emulator.kinesis.streams import Stream, StreamStore
from emulator.kinesis.throttle import ShardThrottle
from emulator.kinesis.tokens import ShardFilter, first_shard_after, make_token, open_token, shard_index
from emulator.topics import TopicPolicy
from foundation.clock import now_ms
from foundation.lifecycle import AsyncResource
from producers.partitioning import (
    shard_id,
)
from producers.shard_map import Shard, ShardMap

log = logging.getLogger(__name__)

MAX_PUT_RECORDS_BYTES = 5 * 1024 * 1024
MAX_GET_RECORDS_BYTES = 10 * 1024 * 1024
MAX_TAGS_PER_STREAM = 50


class KinesisService(AsyncResource):
    """Kinesis Data Streams on Kafka. ``start()`` connects to Kafka; ``stop()`` closes everything."""

    def __init__(
        self,
        settings: KinesisSettings,
        bootstrap_servers: str,
        *,
        iterator_key: bytes | None = None,
        clock_ms: Callable[[], int] = now_ms,
        policy: TopicPolicy | None = None,
        budget: InFlightBudget | None = None,
    ) -> None:
        self.settings = settings
        self._writer = KafkaWriter(bootstrap_servers)
        policy = policy or TopicPolicy.of(settings.metadata_topic, settings.firehose.metadata_topic)
        self._store = StreamStore(bootstrap_servers, self._writer, settings.metadata_topic, settings.account_id, policy)
        self._readers = ReaderPool(bootstrap_servers)
        limit = settings.shard_write_limit
        self._throttle = ShardThrottle(limit.records_per_second, limit.bytes_per_second) if limit else None
        budget = budget or InFlightBudget(settings.in_flight.records, settings.in_flight.bytes)
        self._puts = Puts(self._writer, self._throttle, budget, settings.account_id)
        #: Resharding and enhanced fan-out are components of their own; the router calls their operations directly
        #: (``resharder.split_shard``, ``fanout.register``: see ``emulator/kinesis/api.py``).
        self.resharder = Resharder(
            self._store,
            self._puts,
            self._readers,
            account_id=settings.account_id,
            arn=self.arn,
            shard_limit=settings.shard_limit,
            clock_ms=clock_ms,
            background=self._background,
            delay_s=settings.create_delay_s,
        )
        # Iterators are only valid on the server that issued them (and only for their 5 minutes anyway).
        self._iterator_key = iterator_key or secrets.token_bytes(32)
        self._clock_ms = clock_ms
        self._ttl_ms = int(settings.iterator_ttl_s * 1000)
        self._tasks: set[asyncio.Task[None]] = set()
        self.fanout = FanOut(
            self._store,
            self._readers,
            region=settings.region,
            account_id=settings.account_id,
            lifetime_s=settings.subscription_lifetime_s,
            fetch_wait_s=settings.fetch_wait_s,
            clock_ms=clock_ms,
            iterator_for=self.get_shard_iterator,
            open_iterator=lambda token: iterators.decode(token, self._iterator_key, self._clock_ms(), self._ttl_ms),
        )

    async def start(self) -> None:
        await self._writer.start()
        await self._store.start()
        await self._readers.start()
        await self.resharder.recover()

    async def stop(self) -> None:
        self.fanout.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._readers.stop()
        await self._store.stop()
        await self._writer.stop()

    def _background(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def arn(self, name: str) -> str:
        return f"arn:aws:kinesis:{self.settings.region}:{self.settings.account_id}:stream/{name}"

    def _not_found_shard(self, stream: str, shard: str) -> ResourceNotFoundException:
        return ResourceNotFoundException(
            f"Shard {shard} in stream {stream} under account {self.settings.account_id} does not exist"
        )

    # --- stream lifecycle ---------------------------------------------------------------------------------------

    async def create_stream(self, request: CreateStreamInput) -> dict[str, Any]:
        if self._store.policy.is_sealed(request.stream):
            raise InvalidArgumentException(self._store.policy.refusal(request.stream))
        self._check_tag_characters(request.tags, request.stream)
        if await self._store.find(request.stream) is not None or await self._store.topic_exists(request.stream):
            raise ResourceInUseException(
                f"Stream {request.stream} under account {self.settings.account_id} already exists."
            )
        if request.stream in (".", ".."):
            raise InvalidArgumentException(f"Stream name {request.stream!r} cannot be a Kafka topic name.")
        used = sum(stream.open_shard_count for stream in await self._store.all())
        if used + request.shard_count > self.settings.shard_limit:
            raise LimitExceededException(
                f"This request would exceed the shard limit for the account {self.settings.account_id} in "
                f"{self.settings.region}. Current shard count for the account: {used}. Limit: "
                f"{self.settings.shard_limit}. Number of additional shards that would have resulted from this "
                f"request: {request.shard_count}."
            )
        created = self._clock_ms()
        stream = Stream(
            name=request.stream,
            shard_map=ShardMap.uniform(request.shard_count, created),
            status="CREATING",
            created_ms=created,
            on_demand=request.on_demand,
            tags=dict(request.tags),
        )
        self._store.register_creating(stream)
        self._background(self._finish_create(stream))
        return {}

    async def _finish_create(self, stream: Stream) -> None:
        try:
            await self._store.create_topic(stream)
            await asyncio.sleep(self.settings.create_delay_s)
            stream.status = "ACTIVE"
        except Exception:
            log.exception("creating the topic of stream %s failed; the stream is dropped", stream.name)
            self._store.forget(stream.name)

    async def delete_stream(self, request: StreamInput) -> dict[str, Any]:
        stream = await self._store.get_or_raise_not_found(request.stream)
        if stream.status == "CREATING":
            raise ResourceInUseException(
                f"Stream {stream.name} under account {self.settings.account_id} is in CREATING state."
            )
        if stream.status != "DELETING":
            stream.status = "DELETING"
            self._background(self._finish_delete(stream.name))
        return {}

    async def _finish_delete(self, name: str) -> None:
        try:
            await self._readers.forget(name)
            if self._throttle is not None:
                self._throttle.forget(name)
            await self._store.delete_topic(name)
        except Exception:
            log.exception("deleting the topic of stream %s failed", name)

    # --- describing -----------------------------------------------------------------------------------------------

    def _shards(
        self, stream: Stream, after: str | None, limit: int, listed: list[Shard] | None = None
    ) -> tuple[list[dict[str, Any]], bool]:
        """A page of ``listed`` (every shard by default) after shard id ``after``, as the API describes shards."""
        shards = list(stream.shard_map) if listed is None else listed
        start = first_shard_after(after, stream.shard_count)
        page = [shard for shard in shards if shard.index >= start]
        return [lineage.describe(shard) for shard in page[:limit]], len(page) > limit

    def _summary_common(self, stream: Stream) -> dict[str, Any]:
        return {
            "StreamName": stream.name,
            "StreamARN": self.arn(stream.name),
            "StreamStatus": stream.status,
            "StreamModeDetails": {"StreamMode": "ON_DEMAND" if stream.on_demand else "PROVISIONED"},
            "RetentionPeriodHours": stream.retention_hours,
            "StreamCreationTimestamp": AwsTimestamp(stream.created_ms),
            "EnhancedMonitoring": [{"ShardLevelMetrics": _in_model_order(stream.shard_level_metrics)}],
            "EncryptionType": "NONE",
        }

    async def describe_stream(self, request: DescribeStreamInput) -> dict[str, Any]:
        stream = await self._store.get_or_raise_not_found(request.stream)
        shards, more = self._shards(stream, request.exclusive_start_shard_id, request.limit)
        description = self._summary_common(stream)
        description["Shards"] = shards
        description["HasMoreShards"] = more
        return {"StreamDescription": description}

    async def describe_stream_summary(self, request: StreamInput) -> dict[str, Any]:
        stream = await self._store.get_or_raise_not_found(request.stream)
        summary = self._summary_common(stream)
        summary["OpenShardCount"] = stream.open_shard_count
        summary["ConsumerCount"] = len(stream.consumers)
        return {"StreamDescriptionSummary": summary}

    async def list_streams(self, request: ListStreamsInput) -> dict[str, Any]:
        after = request.exclusive_start_stream_name
        if request.next_token is not None:
            after = open_token(request.next_token, "stream")
        unlisted = frozenset() if self.settings.list_unlisted_topics else self.settings.unlisted_topics
        streams = [
            stream
            for stream in await self._store.all()
            if (after is None or stream.name > after) and stream.name not in unlisted
        ]
        page, more = streams[: request.limit], len(streams) > request.limit
        response: dict[str, Any] = {
            "StreamNames": [stream.name for stream in page],
            "HasMoreStreams": more,
            "StreamSummaries": [
                {
                    "StreamName": stream.name,
                    "StreamARN": self.arn(stream.name),
                    "StreamStatus": stream.status,
                    "StreamModeDetails": {"StreamMode": "ON_DEMAND" if stream.on_demand else "PROVISIONED"},
                    "StreamCreationTimestamp": AwsTimestamp(stream.created_ms),
                }
                for stream in page
            ],
        }
        if more:
            response["NextToken"] = make_token({"stream": page[-1].name})
        return response

    async def list_shards(self, request: ListShardsInput) -> dict[str, Any]:
        name, after = request.stream, request.exclusive_start_shard_id
        shard_filter = ShardFilter(request.filter_type, request.filter_shard_id, request.filter_timestamp_ms)
        if request.next_token is not None:
            name = open_token(request.next_token, "name")
            after = open_token(request.next_token, "after")
            shard_filter = ShardFilter.of_token(request.next_token)
        assert name is not None  # noqa: S101 - ListShardsInput.parse guarantees a stream or a token
        stream = await self._store.get_or_raise_not_found(name)
        listed = lineage.filter_shards(
            stream.shard_map,
            shard_filter.kind,
            after_index=first_shard_after(shard_filter.shard, stream.shard_count) - 1 if shard_filter.shard else None,
            timestamp_ms=shard_filter.at_ms,
            now_ms=self._clock_ms(),
            created_ms=stream.created_ms,
            retention_hours=stream.retention_hours,
        )
        shards, more = self._shards(stream, after, request.max_results, listed)
        response: dict[str, Any] = {"Shards": shards}
        if more:
            token = {"name": name, "after": shards[-1]["ShardId"], **shard_filter.token_members()}
            response["NextToken"] = make_token(token)
        return response

    # --- retention and tags -------------------------------------------------------------------------------------

    async def increase_stream_retention_period(self, request: RetentionInput) -> dict[str, Any]:
        stream = await self._store.get_or_raise_not_found(request.stream, active=True)
        _check_retention(request.hours)
        if request.hours < stream.retention_hours:
            raise InvalidArgumentException(
                f"Requested retention period ({request.hours} hours) for stream {stream.name} can not be shorter "
                f"than existing retention period ({stream.retention_hours} hours). Use DecreaseRetentionPeriod API."
            )
        await self._store.set_retention(stream, request.hours)
        return {}

    async def decrease_stream_retention_period(self, request: RetentionInput) -> dict[str, Any]:
        stream = await self._store.get_or_raise_not_found(request.stream, active=True)
        _check_retention(request.hours)
        if request.hours > stream.retention_hours:
            raise InvalidArgumentException(
                f"Requested retention period ({request.hours} hours) for stream {stream.name} can not be longer "
                f"than existing retention period ({stream.retention_hours} hours). Use IncreaseRetentionPeriod API."
            )
        await self._store.set_retention(stream, request.hours)
        return {}

    def _check_tag_characters(self, tags: dict[str, str], stream: str) -> None:
        refusal = tag_characters_refusal(tags, stream, self.settings.account_id)
        if refusal is not None:
            raise InvalidArgumentException(refusal)

    async def add_tags_to_stream(self, request: AddTagsInput) -> dict[str, Any]:
        stream = await self._store.get_or_raise_not_found(request.stream, active=True)
        self._check_tag_characters(request.tags, stream.name)
        merged = dict(stream.tags, **request.tags)
        if len(merged) > MAX_TAGS_PER_STREAM:
            raise LimitExceededException(
                f"Failed to add tags to stream {stream.name} under account {self.settings.account_id} because a "
                f"given stream cannot have more than {MAX_TAGS_PER_STREAM} tags associated with it."
            )
        stream.tags = merged
        await self._store.save(stream)
        return {}

    async def list_tags_for_stream(self, request: ListTagsInput) -> dict[str, Any]:
        stream = await self._store.get_or_raise_not_found(request.stream)
        keys = sorted(
            key
            for key in stream.tags
            if request.exclusive_start_tag_key is None or key > request.exclusive_start_tag_key
        )
        page = keys[: request.limit]
        return {
            "Tags": [{"Key": key, "Value": stream.tags[key]} for key in page],
            "HasMoreTags": len(keys) > len(page),
        }

    async def remove_tags_from_stream(self, request: RemoveTagsInput) -> dict[str, Any]:
        stream = await self._store.get_or_raise_not_found(request.stream, active=True)
        stream.tags = {key: value for key, value in stream.tags.items() if key not in request.keys}
        await self._store.save(stream)
        return {}

    # --- enhanced monitoring: recorded and shown (kemu publishes no CloudWatch metrics) -----------------------------

    async def enable_enhanced_monitoring(self, request: EnhancedMonitoringInput) -> dict[str, Any]:
        stream = await self._store.get_or_raise_not_found(request.stream, active=True)
        return await self._set_metrics(stream, stream.shard_level_metrics | request.metrics)

    async def disable_enhanced_monitoring(self, request: EnhancedMonitoringInput) -> dict[str, Any]:
        stream = await self._store.get_or_raise_not_found(request.stream, active=True)
        return await self._set_metrics(stream, stream.shard_level_metrics - request.metrics)

    async def _set_metrics(self, stream: Stream, desired: frozenset[str]) -> dict[str, Any]:
        current = stream.shard_level_metrics
        stream.shard_level_metrics = desired
        await self._store.save(stream)
        return {
            "StreamName": stream.name,
            "StreamARN": self.arn(stream.name),
            "CurrentShardLevelMetrics": _in_model_order(current),
            "DesiredShardLevelMetrics": _in_model_order(desired),
        }

    # --- writing ----------------------------------------------------------------------------------------------

    async def put_record(self, request: PutRecordInput) -> dict[str, Any]:
        stream = await self._store.get_or_raise_not_found(request.stream, active=True)
        return await self._puts.put_record(stream, request.record)

    async def put_records(self, request: PutRecordsInput) -> dict[str, Any]:
        stream = await self._store.get_or_raise_not_found(request.stream, active=True)
        return await self._puts.put_records(stream, request.records)

    # --- reading -----------------------------------------------------------------------------------------------

    async def get_shard_iterator(self, request: GetShardIteratorInput) -> dict[str, Any]:
        stream = await self._store.get_or_raise_not_found(request.stream, active=True)
        shard = shard_index(request.shard_id)
        if shard is None or shard >= stream.shard_count:
            raise self._not_found_shard(stream.name, request.shard_id)
        reader = await self._readers.get(stream.name, shard)
        kind = request.iterator_type
        if kind == "TRIM_HORIZON":
            offset = (await reader.bounds())[0]
        elif kind == "LATEST":
            offset = (await reader.bounds())[1]
        elif kind == "AT_TIMESTAMP":
            assert request.timestamp_ms is not None  # noqa: S101 - the shape requires it for AT_TIMESTAMP
            now = self._clock_ms()
            if request.timestamp_ms > now:
                raise InvalidArgumentException(
                    "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. "
                    f"timestampInMillis: {request.timestamp_ms}, currentTimestampInMillis: {now}"
                )
            # Before the epoch is before any record: the oldest one (Kafka reads negative times as special offsets).
            offset = await reader.offset_at(max(0, request.timestamp_ms))
        else:
            assert request.starting_sequence_number is not None  # noqa: S101 - required for these types
            offset = self._offset_of(request.starting_sequence_number, shard, stream)
            end = (await reader.bounds())[1]
            if offset >= end:
                raise InvalidArgumentException(
                    f"StartingSequenceNumber {request.starting_sequence_number} used in GetShardIterator on shard "
                    f"{shard_id(shard)} in stream {stream.name} under account {self.settings.account_id} is beyond "
                    "the last record of the shard."
                )
            if kind == "AFTER_SEQUENCE_NUMBER":
                offset += 1
        token = iterators.encode(
            iterators.ShardIterator(stream.name, shard, offset, self._clock_ms()), self._iterator_key
        )
        return {"ShardIterator": token}

    def _offset_of(self, sequence_number: str, shard: int, stream: Stream) -> int:
        try:
            position = sequence.decode(sequence_number)
        except ValueError:
            raise InvalidArgumentException(
                f"StartingSequenceNumber {sequence_number} used in GetShardIterator on shard {shard_id(shard)} "
                f"in stream {stream.name} under account {self.settings.account_id} is invalid."
            ) from None
        if position.shard != shard:
            raise InvalidArgumentException(
                f"Invalid StartingSequenceNumber. It encodes {shard_id(position.shard)}, while it was used in a "
                f"call to a shard with {shard_id(shard)}"
            )
        return position.offset

    async def get_records(self, request: GetRecordsInput) -> dict[str, Any]:
        position = iterators.decode(request.iterator, self._iterator_key, self._clock_ms(), self._ttl_ms)
        if request.stream is not None and request.stream != position.stream:
            raise InvalidArgumentException("StreamARN does not name the stream of the ShardIterator.")
        stream = await self._store.get_or_raise_not_found(position.stream, active=True)
        if position.shard >= stream.shard_count:
            raise self._not_found_shard(stream.name, shard_id(position.shard))
        reader = await self._readers.get(stream.name, position.shard)
        fetched = await reader.read(
            position.offset, request.limit, MAX_GET_RECORDS_BYTES, self.settings.fetch_wait_s, self._readers.probe
        )
        shard = position.shard
        end = lineage.ending_offset(stream.shard_map.shards[shard])
        if end is not None and fetched.next_offset >= end:
            # The last page of a closed shard: nothing after its end is part of it (a Kafka-side write to a closed
            # partition is not the stream's), and its reader moves on to the children.
            last = [record for record in fetched.records if record.offset < end]
            return {
                "Records": wire_records(shard, last),
                "MillisBehindLatest": 0,
                "ChildShards": lineage.child_shards(stream.shard_map, shard),
            }
        records = wire_records(shard, fetched.records)
        next_iterator = iterators.encode(
            iterators.ShardIterator(stream.name, shard, fetched.next_offset, self._clock_ms()), self._iterator_key
        )
        return {"Records": records, "NextShardIterator": next_iterator, "MillisBehindLatest": fetched.millis_behind}


def _in_model_order(metrics: frozenset[str]) -> list[str]:
    return [name for name in SHARD_LEVEL_METRICS if name in metrics]


def _check_retention(hours: int) -> None:
    if not MIN_RETENTION_HOURS <= hours <= MAX_RETENTION_HOURS:
        raise InvalidArgumentException(
            f"Retention period {hours} hours is outside [{MIN_RETENTION_HOURS}, {MAX_RETENTION_HOURS}] hours."
        )


__all__ = ["KinesisService"]
