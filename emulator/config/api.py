"""What the API serves and where it reads it from: the analytics output topics and the streams it reports on.

A model of its own (one field of :class:`emulator.settings.Settings`), so the API's knobs do not crowd the root.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from emulator.names import STREAM_NAME_PATTERN


class ServingSettings(BaseModel):
    """Settings of the leaderboard API and its live page (``KEMU_SERVING__*``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Topic the analytics engine writes window results to (one record per (query, window) emission).
    results_topic: str = Field(default="analytics-results", pattern=STREAM_NAME_PATTERN)
    #: Topic the analytics engine writes alerts to.
    alerts_topic: str = Field(default="analytics-alerts", pattern=STREAM_NAME_PATTERN)
    #: Streams shown by ``GET /streams``; empty means every topic of the cluster except Kafka's and kemu's internal
    #: ones (emulator.topics).
    streams: tuple[str, ...] = ()
    #: How many windows of each board stay in memory (older ones leave: the topic is the history).
    windows_per_board: int = Field(default=64, ge=1, le=10_000)
    #: How many alerts stay in memory for ``GET /alerts``.
    alerts_capacity: int = Field(default=10_000, ge=1, le=1_000_000)
    #: Seconds between two polls of the cluster for ``GET /streams`` (offsets, rates, consumer lag).
    streams_poll_s: float = Field(default=2.0, gt=0, le=300)
