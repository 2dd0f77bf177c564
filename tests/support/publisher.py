"""A stand-in for the analytics engine's *output*, used only by tests and the API benchmark: it writes records in
the results/alerts contract to the real Kafka topics, so the API is exercised end to end (Kafka → API → browser)
before the real engine is wired in. It is a supervised component (``run()``, ``stats()``) like the real ones."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from tests.support.results import alert, iso


def key_of(record: dict[str, Any]) -> bytes:
    """The contract's Kafka key of a results record: ``{query}|{window_start}``."""
    return f"{record['query']}|{record['window_start']}".encode()


class ResultsPublisher:
    """Every tick, adds points to random players of each board's current (wall-clock) tumbling window and emits
    the window's complete Top-N; when a window ends it is emitted once more with ``final: true``.

    :attr:`published` keeps the last record sent per (query, window_start): what the API must answer.
    """

    name = "test-results-publisher"

    def __init__(
        self,
        bootstrap: str,
        results_topic: str,
        alerts_topic: str,
        boards: tuple[str, ...] = ("top-players",),
        players: int = 200,
        top_n: int = 25,
        window_s: int = 10,
        records_per_s: float = 20.0,
        seed: int = 7,
    ) -> None:
        self._bootstrap = bootstrap
        self._results_topic = results_topic
        self._alerts_topic = alerts_topic
        self._boards = boards
        self._players = players
        self._top_n = top_n
        self._window = timedelta(seconds=window_s)
        self._interval = len(boards) / records_per_s
        self._random = random.Random(seed)
        self._scores: dict[tuple[str, datetime], dict[str, int]] = {}
        self.published: dict[tuple[str, str], dict[str, Any]] = {}
        #: Every record sent, by (query, window_start, emitted_at); the newest 2,000 only.
        self.history: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.records_out = 0

    def stats(self) -> dict[str, float]:
        return {"events_out": self.records_out}

    def _window_of(self, now: datetime) -> datetime:
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        return epoch + ((now - epoch) // self._window) * self._window

    def record(self, board: str, start: datetime, now: datetime, final: bool) -> dict[str, Any]:
        scores = self._scores[(board, start)]
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[: self._top_n]
        return {
            "query": board,
            "window_start": iso(start),
            "window_end": iso(start + self._window),
            "final": final,
            "watermark": iso(now - timedelta(seconds=1)),
            "emitted_at": iso(now),
            "rows": [{"rank": i + 1, "key": key, "score": score} for i, (key, score) in enumerate(ranked)],
        }

    async def send(self, producer: AIOKafkaProducer, record: dict[str, Any]) -> None:
        await producer.send_and_wait(self._results_topic, orjson.dumps(record), key=key_of(record))
        self.published[(record["query"], record["window_start"])] = record
        self.history[(record["query"], record["window_start"], record["emitted_at"])] = record
        if len(self.history) > 2_000:
            del self.history[next(iter(self.history))]
        self.records_out += 1

    async def tick(self, producer: AIOKafkaProducer, now: datetime) -> None:
        start = self._window_of(now)
        for board in self._boards:
            previous = start - self._window
            if (board, previous) in self._scores:
                await self.send(producer, self.record(board, previous, now, final=True))
                del self._scores[(board, previous)]
                await producer.send_and_wait(
                    self._alerts_topic, orjson.dumps(alert(board, "player-000", previous, emitted_at=now))
                )
            scores = self._scores.setdefault((board, start), {})
            for _ in range(5):
                player = f"player-{self._random.randrange(self._players):03d}"
                scores[player] = scores.get(player, 0) + self._random.randrange(1, 100)
            await self.send(producer, self.record(board, start, now, final=False))

    async def run(self) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self._bootstrap, acks="all", linger_ms=0)
        try:
            await producer.start()
            while True:
                await self.tick(producer, datetime.now(UTC))
                await asyncio.sleep(self._interval)
        finally:
            await producer.stop()
