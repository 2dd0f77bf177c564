"""The Kinesis Data Streams HTTP API on Kafka (AWS JSON 1.1 and CBOR 1.1), for unchanged boto3 / aws-cli code.

The settings model is imported eagerly (``emulator.settings`` needs it); the service loads on first use, so reading
settings does not import Kafka clients. The router that serves it is :mod:`emulator.aws.router`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator.config.kinesis import KinesisSettings, ShardWriteLimit

if TYPE_CHECKING:
    from emulator.kinesis.service import KinesisService

__all__ = ["KinesisService", "KinesisSettings", "ShardWriteLimit"]


def __getattr__(name: str) -> Any:
    if name == "KinesisService":
        from emulator.kinesis import service

        return service.KinesisService
    raise AttributeError(name)
