"""The Firehose API (``Firehose_20150804.*``) on the Kinesis endpoint: delivery streams run by :mod:`sinks`.

The settings model is imported eagerly (the Kinesis settings nest it); the service loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator.config.firehose import FirehoseSettings

if TYPE_CHECKING:
    from emulator.firehose.service import FirehoseService

__all__ = ["FirehoseService", "FirehoseSettings"]


def __getattr__(name: str) -> Any:
    if name == "FirehoseService":
        from emulator.firehose import service

        return service.FirehoseService
    raise AttributeError(name)
