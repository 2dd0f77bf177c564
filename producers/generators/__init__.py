"""The event generators: clickstream, mobile game and IoT, each seeded and event-time ordered."""

from __future__ import annotations

from producers.config import GeneratorConfig, StreamKind
from producers.generators.base import Event, EventGenerator, IsoMillis, Record, RecordGenerator, ZipfSampler
from producers.generators.clickstream import ClickstreamGenerator
from producers.generators.game import GameGenerator
from producers.generators.iot import Anomaly, IotGenerator

__all__ = [
    "Anomaly",
    "ClickstreamGenerator",
    "Event",
    "EventGenerator",
    "GameGenerator",
    "IotGenerator",
    "IsoMillis",
    "Record",
    "RecordGenerator",
    "ZipfSampler",
    "make_generator",
]


def make_generator(config: GeneratorConfig) -> ClickstreamGenerator | GameGenerator | IotGenerator:
    """The generator ``config`` describes."""
    args = (config.seed, config.start_time_ms, config.events_per_second, config.population)
    if config.kind is StreamKind.CLICKSTREAM:
        return ClickstreamGenerator(*args)
    if config.kind is StreamKind.GAME:
        return GameGenerator(*args)
    return IotGenerator(*args)
