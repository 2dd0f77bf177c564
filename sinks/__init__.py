"""Firehose-like delivery of Kafka topics to S3: buffered Parquet, Firehose key layout, error prefix, exactly once."""

# The names below are loaded on first use (PEP 562), so importing a light submodule such as ``sinks.config``
# (the emulator's settings do, for every command) does not pull in the whole engine and its native libraries.

from __future__ import annotations

from typing import TYPE_CHECKING

from foundation.exports import lazy_exports

if TYPE_CHECKING:
    from sinks.buffering import FlushReason, flush_reason
    from sinks.config import BufferingHints, Compression, DeliveryStreamConfig, FieldType, S3Connection
    from sinks.delivery import DeliveryStats, DeliveryStream, retry_kafka
    from sinks.exceptions import DestinationError, PrefixError, SinkError, StopRequested
    from sinks.prefixes import KeyLayout
    from sinks.s3 import make_s3_client

_EXPORTS = {
    "BufferingHints": "sinks.config",
    "Compression": "sinks.config",
    "DeliveryStats": "sinks.delivery",
    "DeliveryStream": "sinks.delivery",
    "DeliveryStreamConfig": "sinks.config",
    "DestinationError": "sinks.exceptions",
    "FieldType": "sinks.config",
    "FlushReason": "sinks.buffering",
    "KeyLayout": "sinks.prefixes",
    "PrefixError": "sinks.exceptions",
    "S3Connection": "sinks.config",
    "SinkError": "sinks.exceptions",
    "StopRequested": "sinks.exceptions",
    "flush_reason": "sinks.buffering",
    "make_s3_client": "sinks.s3",
    "retry_kafka": "sinks.delivery",
}

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
    "make_s3_client",
    "retry_kafka",
]


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
