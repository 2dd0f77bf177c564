"""Enhanced fan-out: stream consumers and SubscribeToShard's pushed events.

A consumer is a name registered on a stream, kept with the stream's metadata (so it survives a restart) and given
an ARN carrying its creation time: a consumer registered again under the same name has a new ARN, as on AWS.

A subscription (consumer, shard) pushes ``SubscribeToShardEvent``s as AWS does: an ``initial-response`` event, then
an event whenever records arrive (and one a second while there are none, so ``MillisBehindLatest`` and the
continuation stay fresh), for at most ``subscription_lifetime_s`` (AWS: 5 minutes), after which the client
subscribes again from ``ContinuationSequenceNumber``. A second SubscribeToShard of the same consumer and shard within
5 seconds of the first is ResourceInUseException; a later one takes over, and the earlier one ends with a
ResourceInUseException event. Records are read from Kafka with the same shard readers as GetRecords.

``ContinuationSequenceNumber`` is the sequence number of the last record sent (or, before any, of the position
just before where reading starts), so ``AFTER_SEQUENCE_NUMBER`` resumes exactly after it. Since kemu's first record
of a shard has the shard's ``StartingSequenceNumber`` as its number, a subscription from a shard's
``StartingSequenceNumber`` starts at that record whatever the type: that is the continuation of a subscription that
has seen nothing yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from emulator.aws import eventstream
from emulator.aws.errors import (
    AwsError,
    InternalFailure,
    InvalidArgumentException,
    LimitExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from emulator.aws.eventstream import Encode, EventStream
from emulator.aws.protocol import AwsTimestamp
from emulator.kinesis import lineage, sequence
from emulator.kinesis.consumer_shapes import (
    ConsumerInput,
    ListConsumersInput,
    RegisterConsumerInput,
    SubscribeToShardInput,
)
from emulator.kinesis.iterators import ShardIterator
from emulator.kinesis.reader import ReaderPool, wire_records
from emulator.kinesis.shapes import GetShardIteratorInput
from emulator.kinesis.streams import Stream, StreamStore
from emulator.kinesis.tokens import make_token, open_token

log = logging.getLogger(__name__)

#: Consumers per stream (AWS's quota for enhanced fan-out consumers).
MAX_CONSUMERS_PER_STREAM = 20
#: Data and keys in one event, at most (AWS pushes at most 2 MiB per second per shard and consumer).
MAX_EVENT_BYTES = 2 * 1024 * 1024
MAX_EVENT_RECORDS = 10_000
#: An event at least this often, records or not.
HEARTBEAT_S = 1.0
#: How often an idle subscription looks for new records.
POLL_S = 0.2
#: A second subscription of the same consumer and shard sooner than this is refused; later, it takes over.
TAKEOVER_AFTER_S = 5.0

#: GetShardIterator of the service: the one place starting positions are resolved and checked.
IteratorFor = Callable[[GetShardIteratorInput], Awaitable[dict[str, Any]]]
#: Opens an iterator that ``IteratorFor`` just issued.
OpenIterator = Callable[[str], ShardIterator]


@dataclass
class _Subscription:
    started: float
    stream: str
    consumer: str
    #: Set when the subscription must end: with this error, sent as its last event.
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    reason: AwsError | None = None

    def end(self, reason: AwsError) -> None:
        self.reason = reason
        self.ended.set()


class FanOut:
    """The consumer operations and SubscribeToShard of one Kinesis endpoint."""

    def __init__(
        self,
        store: StreamStore,
        readers: ReaderPool,
        *,
        region: str,
        account_id: str,
        lifetime_s: float,
        fetch_wait_s: float,
        clock_ms: Callable[[], int],
        iterator_for: IteratorFor,
        open_iterator: OpenIterator,
    ) -> None:
        self._store = store
        self._readers = readers
        self._region = region
        self._account_id = account_id
        self._lifetime_s = lifetime_s
        self._fetch_wait_s = fetch_wait_s
        self._clock_ms = clock_ms
        self._iterator_for = iterator_for
        self._open_iterator = open_iterator
        self._active: dict[tuple[str, int], _Subscription] = {}

    def close(self) -> None:
        """End every subscription (the server stops)."""
        for subscription in list(self._active.values()):
            subscription.end(InternalFailure("The endpoint is shutting down; subscribe again."))

    # --- consumers -------------------------------------------------------------------------------------------

    def _stream_arn(self, stream: str) -> str:
        return f"arn:aws:kinesis:{self._region}:{self._account_id}:stream/{stream}"

    def _consumer_arn(self, stream: Stream, name: str) -> str:
        return f"{self._stream_arn(stream.name)}/consumer/{name}:{stream.consumers[name] // 1000}"

    def _consumer(self, stream: Stream, name: str) -> dict[str, Any]:
        return {
            "ConsumerName": name,
            "ConsumerARN": self._consumer_arn(stream, name),
            "ConsumerStatus": "ACTIVE",
            "ConsumerCreationTimestamp": AwsTimestamp(stream.consumers[name]),
        }

    async def _registered(self, stream_name: str, name: str, created_s: int | None) -> Stream:
        stream = await self._store.get_or_raise_not_found(stream_name)
        created_ms = stream.consumers.get(name)
        if created_ms is None or (created_s is not None and created_ms // 1000 != created_s):
            raise ResourceNotFoundException(
                f"Consumer {name} under stream {stream_name} under account {self._account_id} not found."
            )
        return stream

    async def register(self, request: RegisterConsumerInput) -> dict[str, Any]:
        stream = await self._store.get_or_raise_not_found(request.stream, active=True)
        if request.consumer in stream.consumers:
            raise ResourceInUseException(
                f"Consumer {request.consumer} under stream {stream.name} under account {self._account_id} "
                "already exists."
            )
        if len(stream.consumers) >= MAX_CONSUMERS_PER_STREAM:
            raise LimitExceededException(
                f"Stream {stream.name} under account {self._account_id} already has {MAX_CONSUMERS_PER_STREAM} "
                "registered consumers, the most a stream can have."
            )
        stream.consumers[request.consumer] = self._clock_ms()
        await self._store.save(stream)
        # AWS answers CREATING and turns the consumer ACTIVE within seconds; here it is ACTIVE at once.
        return {"Consumer": {**self._consumer(stream, request.consumer), "ConsumerStatus": "CREATING"}}

    async def describe(self, request: ConsumerInput) -> dict[str, Any]:
        stream = await self._registered(request.stream, request.consumer, request.created_s)
        description = self._consumer(stream, request.consumer)
        return {"ConsumerDescription": {**description, "StreamARN": self._stream_arn(stream.name)}}

    async def list(self, request: ListConsumersInput) -> dict[str, Any]:
        after = None
        if request.next_token is not None:
            if open_token(request.next_token, "stream") != request.stream:
                raise InvalidArgumentException("NextToken was issued for another stream.")
            after = open_token(request.next_token, "after")
        stream = await self._store.get_or_raise_not_found(request.stream)
        names = sorted(consumer for consumer in stream.consumers if after is None or consumer > after)
        page = names[: request.max_results]
        response: dict[str, Any] = {"Consumers": [self._consumer(stream, consumer) for consumer in page]}
        if len(names) > len(page):
            response["NextToken"] = make_token({"stream": stream.name, "after": page[-1]})
        return response

    async def deregister(self, request: ConsumerInput) -> dict[str, Any]:
        stream = await self._registered(request.stream, request.consumer, request.created_s)
        del stream.consumers[request.consumer]
        await self._store.save(stream)
        gone = ResourceNotFoundException(f"Consumer {request.consumer} of stream {stream.name} was deregistered.")
        for subscription in list(self._active.values()):
            if (subscription.stream, subscription.consumer) == (stream.name, request.consumer):
                subscription.end(gone)
        return {}

    # --- subscriptions ---------------------------------------------------------------------------------------

    async def subscribe(self, request: SubscribeToShardInput) -> EventStream:
        named = request.consumer
        stream = await self._registered(named.stream, named.consumer, named.created_s)
        if stream.status not in ("ACTIVE", "UPDATING"):
            raise ResourceNotFoundException(f"Stream {stream.name} under account {self._account_id} not found.")
        kind, number = request.position_type, request.sequence_number
        if number is not None and kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            try:
                position = sequence.decode(number)
            except ValueError:
                position = None
            if position is not None and number == sequence.starting_sequence_number(position.shard):
                kind, number = "TRIM_HORIZON", None  # see the module's docstring
        issued = await self._iterator_for(
            GetShardIteratorInput(stream.name, request.shard_id, kind, number, request.timestamp_ms)
        )
        start = self._open_iterator(issued["ShardIterator"])
        key = (request.consumer_arn, start.shard)
        now = time.monotonic()
        previous = self._active.get(key)
        if previous is not None:
            if now - previous.started < TAKEOVER_AFTER_S:
                raise ResourceInUseException(f"Another active subscription exists for this consumer: {key[0]}")
            previous.end(ResourceInUseException(f"A newer subscription took over for this consumer: {key[0]}"))
        subscription = _Subscription(now, stream.name, named.consumer)
        self._active[key] = subscription

        def close() -> None:
            if self._active.get(key) is subscription:
                del self._active[key]

        def messages(encode: Encode, content_type: str) -> AsyncIterator[bytes]:
            return self._events(subscription, start, encode, content_type)

        return EventStream(messages, close)

    async def _events(
        self, subscription: _Subscription, start: ShardIterator, encode: Encode, content_type: str
    ) -> AsyncIterator[bytes]:
        yield eventstream.event("initial-response", encode({}), content_type)
        shard, offset = start.shard, start.offset
        continuation = sequence.encode(shard, max(0, offset - 1))
        deadline = subscription.started + self._lifetime_s
        last_event = 0.0
        while time.monotonic() < deadline and not subscription.ended.is_set():
            try:
                current = self._store.cached(subscription.stream)
                if current is None or current.status == "DELETING":
                    raise ResourceNotFoundException(f"Stream {subscription.stream} was deleted.")
                reader = await self._readers.get(subscription.stream, shard)
                fetched = await reader.read(
                    offset, MAX_EVENT_RECORDS, MAX_EVENT_BYTES, self._fetch_wait_s, self._readers.probe
                )
            except AwsError as error:
                subscription.end(error)
                break
            except Exception:
                log.exception("reading shard %d of %s for a subscription failed", shard, subscription.stream)
                subscription.end(InternalFailure("Reading the shard failed; subscribe again."))
                break
            end = lineage.ending_offset(current.shard_map.shards[shard])
            if end is not None and fetched.next_offset >= end:
                # A closed shard's last event: its records up to its end, no continuation, and the children.
                body = {
                    "Records": wire_records(shard, [record for record in fetched.records if record.offset < end]),
                    "MillisBehindLatest": 0,
                    "ChildShards": lineage.child_shards(current.shard_map, shard),
                }
                yield eventstream.event("SubscribeToShardEvent", encode(body), content_type)
                break
            if fetched.records:
                continuation = sequence.encode(shard, fetched.records[-1].offset)
            elif fetched.next_offset > offset:  # only transaction markers or aborted records were passed
                continuation = sequence.encode(shard, fetched.next_offset - 1)
            offset = fetched.next_offset
            if fetched.records or time.monotonic() - last_event >= HEARTBEAT_S:
                body = {
                    "Records": wire_records(shard, fetched.records),
                    "ContinuationSequenceNumber": continuation,
                    "MillisBehindLatest": fetched.millis_behind,
                }
                yield eventstream.event("SubscribeToShardEvent", encode(body), content_type)
                last_event = time.monotonic()
            if not fetched.records:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(subscription.ended.wait(), POLL_S)
        reason = subscription.reason
        if reason is not None:
            yield eventstream.exception(reason.type_name, encode({"message": str(reason)}), content_type)
