"""Settings of the demo pipeline that ``kemu up`` runs (``[demo]`` in the TOML file, ``KEMU_DEMO__*``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DemoSettings(BaseModel):
    """Event rates of the demo's producers; 0 leaves a stream out. Modest by default so a laptop stays responsive."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    game_rate: float = Field(default=500.0, ge=0, le=1_000_000)
    clickstream_rate: float = Field(default=200.0, ge=0, le=1_000_000)
    iot_rate: float = Field(default=100.0, ge=0, le=1_000_000)
    #: Shards of each stream when the demo has to create it.
    shards: int = Field(default=4, ge=1, le=1024)
    #: Realism of the demo streams, so the late-event and error paths show up on the live page and in the bucket.
    out_of_order_ratio: float = Field(default=0.02, ge=0, le=1)
    malformed_ratio: float = Field(default=0.005, ge=0, le=1)
    #: Size of the demo's oversized malformed records: above the analytics engine's 128 KiB ``max_record_bytes``, so
    #: they still take that error path, but not the producers' 256 KiB default, with which one record in 800 carried
    #: more bytes than all the valid events together.
    oversized_bytes: int = Field(default=160_000, ge=1_024, le=1_000_000)
    #: How often the demo's producers wake up to send what fell due. Each wake-up has a fixed cost: at 20,000
    #: events/s a 20 ms tick took a producer from 0.44 to 0.28 of a core (measured against 5 ms), for batches of
    #: 400 events instead of 100.
    producer_tick_ms: float = Field(default=20.0, gt=0, le=1_000)
    #: Whether the sink delivers the demo streams to S3 as they flow.
    deliver_to_s3: bool = True
    #: How much lower the CPU priority (``nice`` increment, 0-19) of the pipeline's child processes is than that of
    #: ``kemu up`` itself. The API answers people and must stay fast; the producers, engine and sinks are
    #: throughput work that catches up after a burst, so on a small machine the API process wins the CPU.
    pipeline_nice: int = Field(default=19, ge=0, le=19)
    #: The same for the demo's producers. They stand for the applications that write to the streams, outside the
    #: pipeline, so by default they keep the normal priority and the streams their configured rates; the engine and
    #: the sinks behind them are the work that yields to the API and catches up.
    producer_nice: int = Field(default=0, ge=0, le=19)
