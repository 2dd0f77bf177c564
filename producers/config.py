"""Typed configuration of a production run. The caller (the emulator's CLI, a test, a benchmark) builds these."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class StreamKind(StrEnum):
    """The three generators, named as on the command line."""

    CLICKSTREAM = "clickstream"
    GAME = "game"
    IOT = "iot"

    @property
    def default_stream(self) -> str:
        return _DEFAULT_STREAMS[self]

    @property
    def partition_key_field(self) -> str:
        return _KEY_FIELDS[self]


_DEFAULT_STREAMS = {
    StreamKind.CLICKSTREAM: "clickstream",
    StreamKind.GAME: "game-events",
    StreamKind.IOT: "iot-telemetry",
}
_KEY_FIELDS = {StreamKind.CLICKSTREAM: "user_id", StreamKind.GAME: "player_id", StreamKind.IOT: "device_id"}


class RealismConfig(BaseModel):
    """How far the stream departs from a tidy one, so downstream lateness and error paths get exercised."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Share of events emitted after events with a later event time (held back by a random delay).
    out_of_order_ratio: float = Field(default=0.0, ge=0.0, le=1.0)
    #: Mean of the exponential delay of an out-of-order event, in event-time milliseconds.
    out_of_order_mean_delay_ms: float = Field(default=2_000.0, gt=0.0)
    #: Cap on that delay: a delayed event is never later than this.
    out_of_order_max_delay_ms: float = Field(default=30_000.0, gt=0.0)
    #: Share of records replaced by a malformed one (bad JSON, missing or mistyped field, oversized record).
    malformed_ratio: float = Field(default=0.0, ge=0.0, le=1.0)
    #: Size in bytes of an oversized malformed record; above what downstream accepts, below Kafka's 1 MiB limit.
    oversized_bytes: int = Field(default=262_144, ge=1_024, le=1_000_000)


class GeneratorConfig(BaseModel):
    """What to generate: kind, seed, event-time start and the event-time rate."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: StreamKind
    #: Same seed, same start time and same rate → the same events, byte for byte.
    seed: int = 0
    #: Event time of the first event, epoch milliseconds.
    start_time_ms: int = Field(ge=0)
    #: Events per event-time second; the wall-clock rate when production is paced, else only the spacing.
    events_per_second: float = Field(default=1_000.0, gt=0.0, le=10_000_000.0)
    #: Population sizes (users, players or devices); ``None`` picks the generator's default.
    population: int | None = Field(default=None, ge=1, le=10_000_000)


class RunConfig(BaseModel):
    """How long and how fast to produce. Exactly one of ``count`` and ``duration_s`` may bound the run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Wall-clock pacing in events/s; ``None`` produces as fast as possible.
    rate: float | None = Field(default=None, gt=0.0, le=10_000_000.0)
    count: int | None = Field(default=None, ge=1)
    duration_s: float | None = Field(default=None, gt=0.0)
    #: Events generated and handed to the outlet at a time when unpaced.
    chunk_size: int = Field(default=4_096, ge=1, le=1_000_000)
    #: A paced run wakes up at most this often and sends what fell due since: each wake-up and each Kafka batch has
    #: a fixed cost, so a longer tick costs less CPU per event, for burstier delivery (a tick's events at once).
    pacing_tick_ms: float = Field(default=5.0, gt=0.0, le=1_000.0)

    @model_validator(mode="after")
    def _one_bound(self) -> RunConfig:
        if self.count is not None and self.duration_s is not None:
            raise ValueError("give either a count or a duration, not both")
        return self


class KafkaPublisherConfig(BaseModel):
    """The aiokafka producer: idempotent, ``acks=all``, batched per partition."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bootstrap_servers: str = Field(min_length=1)
    client_id: str = "kemu-producer"
    #: Upper bound of one record batch; aiokafka's default (16 KiB) is too small for 100k events/s.
    max_batch_bytes: int = Field(default=524_288, ge=1_024, le=1_048_576)
    #: Records sent but not yet acknowledged before the producer waits: the back-pressure bound on memory.
    max_unacked_records: int = Field(default=200_000, ge=1)
    #: How long one batch may wait for its acknowledgement, retries included, before it counts as failed.
    request_timeout_ms: int = Field(default=60_000, ge=1_000)
    retry_backoff_ms: int = Field(default=200, ge=10)
    linger_ms: int = Field(default=5, ge=0)
