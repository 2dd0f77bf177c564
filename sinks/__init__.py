"""Firehose-like delivery of Kafka topics to S3: buffered Parquet, Firehose key layout, error prefix, exactly once."""

from sinks.buffering import FlushReason, flush_reason
from sinks.config import BufferingHints, Compression, DeliveryStreamConfig, FieldType, S3Connection
from sinks.delivery import DeliveryStats, DeliveryStream
from sinks.exceptions import DestinationError, PrefixError, SinkError, StopRequested
from sinks.prefixes import KeyLayout

__all__ = [
    "BufferingHints",
    "Compression",
    "DeliveryStats",
    "DeliveryStream",
    "DeliveryStreamConfig",
    "DestinationError",
    "FieldType",
    "FlushReason",
    "KeyLayout",
    "PrefixError",
    "S3Connection",
    "SinkError",
    "StopRequested",
    "flush_reason",
]
