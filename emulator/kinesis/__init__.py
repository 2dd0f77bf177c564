"""The Kinesis Data Streams HTTP API on Kafka (AWS JSON 1.1 and CBOR 1.1), for unchanged boto3 / aws-cli code."""

from emulator.kinesis.app import KinesisApp, create_app
from emulator.kinesis.config import KinesisSettings, ShardWriteLimit
from emulator.kinesis.service import KinesisService

__all__ = ["KinesisApp", "KinesisService", "KinesisSettings", "ShardWriteLimit", "create_app"]
