"""Kinesis Data Streams as the endpoint's router serves it: its operations, the ones kemu does not implement, and the
factory of its handler (:class:`~emulator.kinesis.service.KinesisService`)."""

from __future__ import annotations

from collections.abc import Callable

from emulator.aws.model import target_prefix
from emulator.aws.router import AwsService, Handler, RequestShape
from emulator.aws.validation import has_output, operation_validators
from emulator.kinesis import consumer_shapes, reshard_shapes, shapes

#: Operation → (request shape, the method of KinesisService that serves it, dotted when one of its components does).
OPERATIONS: dict[str, tuple[type[RequestShape], str]] = {
    "CreateStream": (shapes.CreateStreamInput, "create_stream"),
    "DeleteStream": (shapes.StreamInput, "delete_stream"),
    "DescribeStream": (shapes.DescribeStreamInput, "describe_stream"),
    "DescribeStreamSummary": (shapes.StreamInput, "describe_stream_summary"),
    "ListStreams": (shapes.ListStreamsInput, "list_streams"),
    "ListShards": (shapes.ListShardsInput, "list_shards"),
    "PutRecord": (shapes.PutRecordInput, "put_record"),
    "PutRecords": (shapes.PutRecordsInput, "put_records"),
    "GetShardIterator": (shapes.GetShardIteratorInput, "get_shard_iterator"),
    "GetRecords": (shapes.GetRecordsInput, "get_records"),
    "IncreaseStreamRetentionPeriod": (shapes.RetentionInput, "increase_stream_retention_period"),
    "DecreaseStreamRetentionPeriod": (shapes.RetentionInput, "decrease_stream_retention_period"),
    "AddTagsToStream": (shapes.AddTagsInput, "add_tags_to_stream"),
    "ListTagsForStream": (shapes.ListTagsInput, "list_tags_for_stream"),
    "RemoveTagsFromStream": (shapes.RemoveTagsInput, "remove_tags_from_stream"),
    "EnableEnhancedMonitoring": (shapes.EnhancedMonitoringInput, "enable_enhanced_monitoring"),
    "DisableEnhancedMonitoring": (shapes.EnhancedMonitoringInput, "disable_enhanced_monitoring"),
    "RegisterStreamConsumer": (consumer_shapes.RegisterConsumerInput, "fanout.register"),
    "DescribeStreamConsumer": (consumer_shapes.ConsumerInput, "fanout.describe"),
    "ListStreamConsumers": (consumer_shapes.ListConsumersInput, "fanout.list"),
    "DeregisterStreamConsumer": (consumer_shapes.ConsumerInput, "fanout.deregister"),
    "SubscribeToShard": (consumer_shapes.SubscribeToShardInput, "fanout.subscribe"),
    "SplitShard": (reshard_shapes.SplitShardInput, "resharder.split_shard"),
    "MergeShards": (reshard_shapes.MergeShardsInput, "resharder.merge_shards"),
    "UpdateShardCount": (reshard_shapes.UpdateShardCountInput, "resharder.update_shard_count"),
}

#: Real Kinesis operations answered with UnsupportedOperationException (so callers learn it is us, not them).
UNSUPPORTED = frozenset(
    {
        "DeleteResourcePolicy",
        "DescribeLimits",
        "GetResourcePolicy",
        "ListTagsForResource",
        "PutResourcePolicy",
        "StartStreamEncryption",
        "StopStreamEncryption",
        "TagResource",
        "UntagResource",
        "UpdateStreamMode",
        "DescribeAccountSettings",
        "UpdateAccountSettings",
        "UpdateMaxRecordSize",
        "UpdateStreamWarmThroughput",
    }
)

TITLE = "Kinesis"

#: AWS's type and constraint checks of each operation, from botocore's model; PutRecords' well-formed records skip
#: the walk (the request shape reads them on its own fast path).
VALIDATORS = operation_validators(
    "kinesis", list(OPERATIONS), {("PutRecords", "Records"): shapes.malformed_record_entries}
)
#: Operations AWS answers with an empty body.
EMPTY_OUTPUTS = frozenset(operation for operation in OPERATIONS if not has_output("kinesis", operation))


def kinesis_service(factory: Callable[[], Handler]) -> AwsService:
    """Kinesis for the router, its handler made by ``factory``."""
    return AwsService(
        TITLE,
        target_prefix("kinesis"),
        "kinesis",
        OPERATIONS,
        UNSUPPORTED,
        factory,
        validators=VALIDATORS,
        empty_outputs=EMPTY_OUTPUTS,
    )
