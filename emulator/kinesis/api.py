"""Kinesis Data Streams as the endpoint's router serves it: its operations, the ones kemu does not implement, and the
factory of its handler (:class:`~emulator.kinesis.service.KinesisService`)."""

from __future__ import annotations

from collections.abc import Callable

from emulator.aws.model import target_prefix
from emulator.aws.router import AwsService, Handler, RequestShape
from emulator.kinesis.shapes import (
    AddTagsInput,
    CreateStreamInput,
    DescribeStreamInput,
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
)

#: Operation → (request shape, service method name).
OPERATIONS: dict[str, tuple[type[RequestShape], str]] = {
    "CreateStream": (CreateStreamInput, "create_stream"),
    "DeleteStream": (StreamInput, "delete_stream"),
    "DescribeStream": (DescribeStreamInput, "describe_stream"),
    "DescribeStreamSummary": (StreamInput, "describe_stream_summary"),
    "ListStreams": (ListStreamsInput, "list_streams"),
    "ListShards": (ListShardsInput, "list_shards"),
    "PutRecord": (PutRecordInput, "put_record"),
    "PutRecords": (PutRecordsInput, "put_records"),
    "GetShardIterator": (GetShardIteratorInput, "get_shard_iterator"),
    "GetRecords": (GetRecordsInput, "get_records"),
    "IncreaseStreamRetentionPeriod": (RetentionInput, "increase_stream_retention_period"),
    "DecreaseStreamRetentionPeriod": (RetentionInput, "decrease_stream_retention_period"),
    "AddTagsToStream": (AddTagsInput, "add_tags_to_stream"),
    "ListTagsForStream": (ListTagsInput, "list_tags_for_stream"),
    "RemoveTagsFromStream": (RemoveTagsInput, "remove_tags_from_stream"),
}

#: Real Kinesis operations answered with UnsupportedOperationException (so callers learn it is us, not them).
UNSUPPORTED = frozenset(
    {
        "DeleteResourcePolicy",
        "DeregisterStreamConsumer",
        "DescribeLimits",
        "DescribeStreamConsumer",
        "DisableEnhancedMonitoring",
        "EnableEnhancedMonitoring",
        "GetResourcePolicy",
        "ListStreamConsumers",
        "ListTagsForResource",
        "MergeShards",
        "PutResourcePolicy",
        "RegisterStreamConsumer",
        "SplitShard",
        "StartStreamEncryption",
        "StopStreamEncryption",
        "SubscribeToShard",
        "TagResource",
        "UntagResource",
        "UpdateShardCount",
        "UpdateStreamMode",
        "DescribeAccountSettings",
        "UpdateAccountSettings",
        "UpdateMaxRecordSize",
        "UpdateStreamWarmThroughput",
    }
)

TITLE = "Kinesis"


def kinesis_service(factory: Callable[[], Handler]) -> AwsService:
    """Kinesis for the router, its handler made by ``factory``."""
    return AwsService(TITLE, target_prefix("kinesis"), "kinesis", OPERATIONS, UNSUPPORTED, factory)
