"""The Kinesis Data Streams HTTP API on Kafka (AWS JSON 1.1 and CBOR 1.1), for unchanged boto3 / aws-cli code.

The settings model is imported eagerly (``emulator.settings`` needs it); the server parts load on first use, so
reading settings does not import Kafka clients.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator.kinesis.config import KinesisSettings, ShardWriteLimit

if TYPE_CHECKING:
    from emulator.kinesis.app import KinesisApp, create_app
    from emulator.kinesis.service import KinesisService

__all__ = ["KinesisApp", "KinesisService", "KinesisSettings", "ShardWriteLimit", "create_app"]


def __getattr__(name: str) -> Any:
    if name in ("KinesisApp", "create_app"):
        from emulator.kinesis import app

        return getattr(app, name)
    if name == "KinesisService":
        from emulator.kinesis import service

        return service.KinesisService
    raise AttributeError(name)
