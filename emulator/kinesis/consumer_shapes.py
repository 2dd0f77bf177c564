"""Typed requests of enhanced fan-out: the stream consumer operations and SubscribeToShard, with AWS's constraints
(limits from botocore's model of Kinesis, like :mod:`emulator.kinesis.shapes`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from emulator.aws.arns import STREAM_ARN_RE
from emulator.aws.errors import InvalidArgumentException, validation_error
from emulator.aws.model import maximum
from emulator.aws.shapes import Wire, opt_int, opt_map, opt_str, req_enum, req_str
from emulator.kinesis.shapes import HASH_KEY_RE, ITERATOR_TYPES, MAX_SHARD_ID, SHARD_ID_RE
from emulator.names import MAX_STREAM_NAME, NAME_CHARACTERS, NAME_RE

MAX_CONSUMER_NAME = maximum("kinesis", "ConsumerName")
MAX_CONSUMER_ARN = 2048
MAX_STREAM_ARN = maximum("kinesis", "StreamARN")
MAX_LIST_CONSUMERS = maximum("kinesis", "ListStreamConsumersInputLimit")
#: A consumer's ARN: the stream's, ``/consumer/<name>:<creation time in epoch seconds>``.
CONSUMER_ARN_RE = re.compile(
    rf"(arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{{12}}:stream/([{NAME_CHARACTERS}]{{1,{MAX_STREAM_NAME}}}))"
    rf"/consumer/([{NAME_CHARACTERS}]{{1,{MAX_CONSUMER_NAME}}}):(\d{{1,20}})"
)


@dataclass(frozen=True, slots=True)
class ConsumerArn:
    """What a consumer ARN names: the stream, the consumer, and the creation (epoch seconds) it was given."""

    stream: str
    consumer: str
    created_s: int


def parse_consumer_arn(arn: str, member: str = "consumerARN") -> ConsumerArn:
    match = CONSUMER_ARN_RE.fullmatch(arn)
    if match is None:
        raise validation_error(
            arn, member, f"Member must satisfy regular expression pattern: {CONSUMER_ARN_RE.pattern}"
        )
    return ConsumerArn(match.group(2), match.group(3), int(match.group(4)))


def _stream_arn(body: dict[str, Any], *, required: bool) -> str | None:
    arn = (req_str if required else opt_str)(body, "StreamARN", max_len=MAX_STREAM_ARN)
    return None if arn is None else _stream_of(arn)


def _stream_of(arn: str) -> str:
    match = STREAM_ARN_RE.fullmatch(arn)
    if match is None:
        raise validation_error(
            arn, "streamARN", f"Member must satisfy regular expression pattern: {STREAM_ARN_RE.pattern}"
        )
    return match.group(1)


def _consumer_name(body: dict[str, Any], *, required: bool) -> str | None:
    return (req_str if required else opt_str)(body, "ConsumerName", max_len=MAX_CONSUMER_NAME, pattern=NAME_RE)


@dataclass(frozen=True, slots=True)
class RegisterConsumerInput:
    stream: str
    consumer: str

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> RegisterConsumerInput:
        stream = req_str(body, "StreamARN", max_len=MAX_STREAM_ARN)
        consumer = req_str(body, "ConsumerName", max_len=MAX_CONSUMER_NAME, pattern=NAME_RE)
        return cls(_stream_of(stream), consumer)


@dataclass(frozen=True, slots=True)
class ConsumerInput:
    """DescribeStreamConsumer, DeregisterStreamConsumer: a consumer by its ARN, or by its stream's ARN and its name."""

    stream: str
    consumer: str
    #: Set when named by ARN: the registration the ARN names (a consumer registered again has another one).
    created_s: int | None

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> ConsumerInput:
        stream = _stream_arn(body, required=False)
        name = _consumer_name(body, required=False)
        arn = opt_str(body, "ConsumerARN", max_len=MAX_CONSUMER_ARN)
        if arn is not None:
            named = parse_consumer_arn(arn)
            if (stream is not None and stream != named.stream) or (name is not None and name != named.consumer):
                raise InvalidArgumentException(f"ConsumerARN {arn} does not name the given stream and consumer.")
            return cls(named.stream, named.consumer, named.created_s)
        if stream is None or name is None:
            raise InvalidArgumentException("Either ConsumerARN or both StreamARN and ConsumerName must be provided.")
        return cls(stream, name, None)


@dataclass(frozen=True, slots=True)
class ListConsumersInput:
    stream: str
    max_results: int
    next_token: str | None

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> ListConsumersInput:
        next_token = opt_str(body, "NextToken", max_len=1048576)
        stream = _stream_of(req_str(body, "StreamARN", max_len=MAX_STREAM_ARN))
        max_results = opt_int(body, "MaxResults", low=1, high=MAX_LIST_CONSUMERS) or 100
        if body.get("StreamCreationTimestamp") is not None:
            wire.timestamp_ms(body["StreamCreationTimestamp"], "streamCreationTimestamp")
        return cls(stream, max_results, next_token)


@dataclass(frozen=True, slots=True)
class SubscribeToShardInput:
    consumer: ConsumerArn
    consumer_arn: str
    shard_id: str
    position_type: str
    sequence_number: str | None
    timestamp_ms: int | None

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> SubscribeToShardInput:
        arn = req_str(body, "ConsumerARN", max_len=MAX_CONSUMER_ARN)
        consumer = parse_consumer_arn(arn)
        shard_id = req_str(body, "ShardId", max_len=MAX_SHARD_ID, pattern=SHARD_ID_RE)
        position = opt_map(body, "StartingPosition")
        if position is None:
            raise validation_error(None, "startingPosition", "Member must not be null")
        kind = req_enum(position, "Type", ITERATOR_TYPES)
        sequence = opt_str(position, "SequenceNumber", pattern=HASH_KEY_RE)
        raw_ts = position.get("Timestamp")
        timestamp_ms = None if raw_ts is None else wire.timestamp_ms(raw_ts, "timestamp")
        return cls(consumer, arn, shard_id, kind, sequence, timestamp_ms)
