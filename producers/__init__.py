"""Realistic event producers: clickstream, mobile game and IoT streams, written to Kafka the way Kinesis shards.

Imports nothing of the other kemu packages; the emulator composes it.
"""

from producers.config import GeneratorConfig, KafkaPublisherConfig, RealismConfig, RunConfig, StreamKind
from producers.events import EVENT_MODELS, ClickstreamEvent, GameEvent, IotEvent
from producers.exceptions import DeliveryError, ProducerConfigError, ProducerError
from producers.gc_tuning import quiet_gc
from producers.generators import make_generator
from producers.jsonl_recorder import JsonlRecorder
from producers.kafka_publisher import KafkaPublisher, SendStats, ensure_stream
from producers.partitioning import shard_for_partition_key
from producers.realism import MALFORMED_KINDS
from producers.records import PartitionMapper, Record, RecordSource
from producers.runner import Clock, MonotonicClock, Progress, Summary, produce

__all__ = [
    "EVENT_MODELS",
    "MALFORMED_KINDS",
    "ClickstreamEvent",
    "Clock",
    "DeliveryError",
    "GameEvent",
    "GeneratorConfig",
    "IotEvent",
    "JsonlRecorder",
    "KafkaPublisher",
    "KafkaPublisherConfig",
    "MonotonicClock",
    "PartitionMapper",
    "ProducerConfigError",
    "ProducerError",
    "Progress",
    "RealismConfig",
    "Record",
    "RecordSource",
    "RunConfig",
    "SendStats",
    "StreamKind",
    "Summary",
    "ensure_stream",
    "make_generator",
    "produce",
    "quiet_gc",
    "shard_for_partition_key",
]
