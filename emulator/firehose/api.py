"""Firehose as the endpoint's router serves it: its operations, the ones kemu does not implement, and the factory of its
handler (:class:`~emulator.firehose.service.FirehoseService`)."""

from __future__ import annotations

from collections.abc import Callable

from emulator.aws.model import target_prefix
from emulator.aws.router import AwsService, Handler, RequestShape
from emulator.firehose.shapes import (
    CreateDeliveryStreamInput,
    DeliveryStreamInput,
    ListDeliveryStreamsInput,
    PutRecordBatchInput,
    PutRecordInput,
)

#: Real Firehose operations answered with UnsupportedOperationException.
UNSUPPORTED = frozenset(
    {
        "ListTagsForDeliveryStream",
        "StartDeliveryStreamEncryption",
        "StopDeliveryStreamEncryption",
        "TagDeliveryStream",
        "UntagDeliveryStream",
        "UpdateDestination",
    }
)
#: Operation → (request shape, service method name).
OPERATIONS: dict[str, tuple[type[RequestShape], str]] = {
    "CreateDeliveryStream": (CreateDeliveryStreamInput, "create_delivery_stream"),
    "DeleteDeliveryStream": (DeliveryStreamInput, "delete_delivery_stream"),
    "DescribeDeliveryStream": (DeliveryStreamInput, "describe_delivery_stream"),
    "ListDeliveryStreams": (ListDeliveryStreamsInput, "list_delivery_streams"),
    "PutRecord": (PutRecordInput, "put_record"),
    "PutRecordBatch": (PutRecordBatchInput, "put_record_batch"),
}


TITLE = "Firehose"


def firehose_service(factory: Callable[[], Handler]) -> AwsService:
    """Firehose for the router, its handler made by ``factory``."""
    return AwsService(TITLE, target_prefix("firehose"), "firehose", OPERATIONS, UNSUPPORTED, factory)
