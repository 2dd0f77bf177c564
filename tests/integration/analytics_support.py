"""Helpers of the analytics integration tests: a query directory, game events on a topic, reading outputs."""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from analytics.emissions import iso_ms as iso

BASE_MS = 1_800_000_000_000
KEMU = Path(sys.executable).parent / "kemu"
#: The engine's outputs, each to a topic of the test's own.
OUTPUTS = ("results", "alerts", "late", "errors")


async def output_topics(new_topic: Callable[..., Awaitable[str]]) -> dict[str, str]:
    """A new single-partition topic for each of :data:`OUTPUTS`."""
    return {kind: await new_topic(partitions=1) for kind in OUTPUTS}


def output_settings(topics: dict[str, str]) -> dict[str, str]:
    """The :class:`analytics.AnalyticsConfig` fields that send the engine's outputs to ``topics``."""
    return {
        "results_topic": topics["results"],
        "alerts_topic": topics["alerts"],
        "late_events_topic": topics["late"],
        "errors_topic": topics["errors"],
    }


def write_query_dir(directory: Path, topic: str, query: str, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sources.toml").write_text(
        f"""[sources.test-game]
topic = "{topic}"
event_time = "event_time"
out_of_orderness = "500ms"
idle_timeout = "2s"

[sources.test-game.columns]
event_id = "VARCHAR"
event_type = "VARCHAR"
event_time = "TIMESTAMP"
player_id = "VARCHAR"
points = "BIGINT"
"""
    )
    (directory / f"{query}.sql").write_text(body)
    return directory


async def query_on_new_topics(
    new_topic: Callable[..., Awaitable[str]], directory: Path, query: str, body: str, partitions: int = 1
) -> tuple[str, dict[str, str], Path]:
    """A new source topic of ``partitions``, new :func:`output_topics`, and ``directory`` holding ``body`` as the query
    ``query`` over that source (:func:`write_query_dir`): the source, the outputs and the directory."""
    source = await new_topic(partitions=partitions)
    topics = await output_topics(new_topic)
    return source, topics, write_query_dir(directory, source, query, body)


def closing_events(partitions: int) -> list[tuple[int, dict[str, Any]]]:
    """One event per partition an hour after the others, so the watermark passes and every window closes."""
    return [
        (p, {"event_id": f"close{p}", "event_type": "score", "event_time": iso(BASE_MS + 3_600_000),
             "player_id": "closer", "points": 0})
        for p in range(partitions)
    ]  # fmt: skip


def game_events(count: int, partitions: int, seed: int = 7, step_ms: int = 1) -> list[tuple[int, dict[str, Any]]]:
    """(partition, event) pairs in send order; within a partition at most 300 ms out of order."""
    rng = random.Random(seed)
    events = []
    for i in range(count):
        t = BASE_MS + i * step_ms - rng.randint(0, 300)
        event = {
            "event_id": f"e{i}",
            "event_type": "score",
            "event_time": iso(t),
            "player_id": f"p{rng.randint(1, 40)}",
            "points": rng.randint(0, 100),
        }
        events.append((i % partitions, event))
    return events


async def produce(bootstrap: str, topic: str, events: list[tuple[int, dict[str, Any]]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, acks="all")
    try:
        await producer.start()
        batch = []
        for partition, event in events:
            key = str(event.get("player_id", "")).encode()
            batch.append(await producer.send(topic, orjson.dumps(event), key=key, partition=partition))
        for future in batch:
            await future
    finally:
        await producer.stop()


async def read_all(bootstrap: str, topic: str) -> list[tuple[bytes | None, dict[str, Any]]]:
    """Every record of a single-partition topic, from the beginning to its end (once nothing new comes for 2 s)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        await consumer.start()
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        out: list[tuple[bytes | None, dict[str, Any]]] = []
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < 2.0:
            data = await consumer.getmany(timeout_ms=300)
            for records in data.values():
                out += [(r.key, orjson.loads(r.value)) for r in records]
                quiet_since = time.monotonic()
        return out
    finally:
        await consumer.stop()


def engine_env(
    bootstrap: str, query_dir: Path, checkpoints: Path, topics: dict[str, str], **extra: str
) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "KEMU_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
            "KEMU_ANALYTICS__QUERY_DIRS": orjson.dumps([str(query_dir)]).decode(),
            "KEMU_ANALYTICS__BUILTIN_QUERIES": "false",
            "KEMU_ANALYTICS__CHECKPOINT_DIR": str(checkpoints),
            **{f"KEMU_ANALYTICS__{field.upper()}": topic for field, topic in output_settings(topics).items()},
        }
    )
    env.update(extra)
    return env
