"""Settings of the Firehose API served beside Kinesis (``Settings.kinesis.firehose``; env
``KEMU_KINESIS__FIREHOSE__*``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from emulator.names import TOPIC_PATTERN


class FirehoseSettings(BaseModel):
    """How the Firehose half of the endpoint stores its delivery streams and runs their delivery."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Compacted topic holding every delivery stream's definition, so they come back after a restart.
    metadata_topic: str = Field(default="kemu-firehose-metadata", pattern=TOPIC_PATTERN)
    #: Delivery streams per account and region (Firehose's default quota is 5,000).
    delivery_stream_limit: int = Field(default=5000, ge=1)
    #: Partitions of the backing topic of a DirectPut delivery stream.
    direct_put_partitions: int = Field(default=1, ge=1, le=64)
    #: Longest wait of a delivery task for new records (also how often its interval hint is checked).
    poll_timeout_ms: int = Field(default=200, ge=10, le=5000)
    #: Seconds a failed delivery task waits before it starts again.
    restart_delay_s: float = Field(default=2.0, gt=0, le=300)
