"""Recording events to a JSON Lines file instead of Kafka, for replays and backtests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from foundation.lifecycle import AsyncResource
from producers.kafka_publisher import SendStats
from producers.records import Record


class JsonlRecorder(AsyncResource):
    """Writes each record's value on its own line. Values never contain a newline: orjson does not emit one, and
    malformed records are built from orjson output. The partition key is a field of every well-formed event."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stats = SendStats()
        self._file: BinaryIO | None = None

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("wb")

    async def send(self, records: Sequence[Record]) -> None:
        if self._file is None:
            raise RuntimeError("the recorder is not started")
        self._file.write(b"".join(value + b"\n" for _key, value in records))
        self.stats.sent += len(records)
        self.stats.acknowledged += len(records)

    async def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    async def stop(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
