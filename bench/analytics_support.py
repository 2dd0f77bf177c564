"""Shared parts of the analytics benchmarks: broker address, topics, game events, preloading."""

from __future__ import annotations

import asyncio
import os
import random
import uuid
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from analytics.emissions import iso_ms as iso
from emulator.endpoints import launcher_for
from emulator.settings import Settings
from producers.partitioning import shard_for_partition_key


def bootstrap_address() -> str:
    """The broker of the settings, else the running embedded services (`kemu services up`)."""
    settings = Settings.load()
    if settings.kafka.bootstrap_servers:
        return settings.kafka.bootstrap_servers
    state = launcher_for(settings).running_state()
    if state is None:
        raise SystemExit("no Kafka: run `kemu services up` or set KEMU_KAFKA__BOOTSTRAP_SERVERS")
    return state.kafka.bootstrap_servers


def game_event(i: int, rng: random.Random, players: int, t_ms: int) -> tuple[str, bytes]:
    """(partition key, JSON) of one game event in the shared schema (COMMON.md)."""
    player = f"player-{rng.randrange(players):05d}"
    kind = "score" if rng.random() < 0.9 else rng.choice(["match_start", "level_up", "match_end"])
    event: dict[str, Any] = {
        "event_id": f"{i:012d}",
        "event_type": kind,
        "event_time": iso(t_ms),
        "player_id": player,
        "match_id": f"match-{rng.randrange(1000):04d}",
        "level": rng.randrange(1, 50),
        "points": rng.randrange(0, 100) if kind == "score" else 0,
    }
    return player, orjson.dumps(event)


async def create_topic(bootstrap: str, partitions: int, prefix: str = "bench-analytics") -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        await admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
    finally:
        await admin.close()
    return name


async def delete_topics(bootstrap: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        doomed = [n for n in names if n in existing]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()


async def preload(bootstrap: str, topic: str, partitions: int, count: int, players: int, span_ms: int) -> float:
    """Write ``count`` game events whose event times cover ``span_ms`` (slightly out of order); returns seconds."""
    rng = random.Random(42)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=50, max_batch_size=1 << 20, acks=1, max_request_size=8 << 20
    )
    try:
        await producer.start()
        start_ms = 1_800_000_000_000
        loop = asyncio.get_running_loop()
        began = loop.time()
        pending = []
        for i in range(count):
            t = start_ms + i * span_ms // max(count, 1) - rng.randrange(0, 500)
            key, value = game_event(i, rng, players, t)
            partition = shard_for_partition_key(key, partitions)
            pending.append(await producer.send(topic, value, key=key.encode(), partition=partition))
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return loop.time() - began


def env_with(**values: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(values)
    return env
