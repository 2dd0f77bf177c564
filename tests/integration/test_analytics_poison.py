"""Poison records through the live engine on the real broker (issue 14, item 9).

A record with bytes 0xff in ``player_id`` or ``user_id`` made the engine exit 1 on every restart
(``UnicodeDecodeError`` in a pass-through query and in ``clickstream_clean``, ``OverflowError`` in
``leaderboard_1m``), counting nothing and routing nothing. Here the built-in queries run on their own topics with
that record and every other kind of poison among valid events: the engine keeps running, each bad record reaches
the errors topic once per query with its reason and is counted, and every valid event is delivered once.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from analytics import BUILTIN_QUERIES, AnalyticsConfig, AnalyticsEngine, load_queries
from tests.integration.analytics_support import BASE_MS, iso, output_settings, output_topics, read_all
from tests.support.poison import poisons

COPY = """-- source: game-events
-- output: topic
-- output_topic: {topic}
SELECT * FROM events
"""
PLAYERS = 7  # fewer than the leaderboard's 10 places: every player's score is in the board


def game(i: int) -> dict[str, Any]:
    return {"event_id": f"g{i}", "event_type": "score", "event_time": iso(BASE_MS + i * 40),
            "player_id": f"p{i % PLAYERS}", "match_id": "m", "level": 1, "points": i % 11}  # fmt: skip


def click(i: int) -> dict[str, Any]:
    return {"event_id": f"c{i}", "event_type": "page_view", "event_time": iso(BASE_MS + i * 40),
            "user_id": f"u{i % 5}", "session_id": "s", "url": "https://shop.example/p", "device": "mobile",
            "country": "FR"}  # fmt: skip


def invalid_utf8(event: dict[str, Any], field: str) -> bytes:
    """The issue's example: ``event`` with the bytes 0xff 0xfe as the value of ``field``."""
    poison = orjson.dumps(event).replace(orjson.dumps(event[field]), b'"\xff\xfe"')
    assert b"\xff\xfe" in poison
    return poison


def query_dir(directory: Path, game_topic: str, click_topic: str, copy_topic: str, clean_topic: str) -> Path:
    """The built-in leaderboard and ETL on this test's topics (a sources.toml overrides the built-in sources by
    name), plus a pass-through copy of the game stream."""
    directory.mkdir()
    sources = (BUILTIN_QUERIES / "sources.toml").read_text()
    sources = sources.replace('topic = "game-events"', f'topic = "{game_topic}"')
    sources = sources.replace('topic = "clickstream"', f'topic = "{click_topic}"')
    (directory / "sources.toml").write_text(sources)
    shutil.copy(BUILTIN_QUERIES / "leaderboard_1m.sql", directory)
    clean = (BUILTIN_QUERIES / "clickstream_clean.sql").read_text()
    (directory / "clickstream_clean.sql").write_text(clean.replace("clickstream-clean", clean_topic))
    (directory / "copy.sql").write_text(COPY.format(topic=copy_topic))
    return directory


async def test_poison_records_are_routed_and_the_engine_keeps_running(
    kafka_bootstrap: str, new_topic: Callable[..., Awaitable[str]], tmp_path: Path
) -> None:
    game_topic, click_topic = await new_topic(partitions=2), await new_topic(partitions=2)
    copy_topic, clean_topic = await new_topic(partitions=1), await new_topic(partitions=1)
    topics = await output_topics(new_topic)
    directory = query_dir(tmp_path / "queries", game_topic, click_topic, copy_topic, clean_topic)
    catalog = load_queries([directory], builtins=False)

    # The example first, in each stream; then every other kind of poison in the game stream.
    valid_game = [game(i) for i in range(600)]
    valid_click = [click(i) for i in range(300)]
    game_poison = [invalid_utf8(game(10_000), "player_id")]
    game_poison += [p.value for p in poisons(game(10_001), "player_id", "points", "event_time")]
    click_poison = [invalid_utf8(click(10_000), "user_id")]
    sent: dict[str, dict[tuple[int, int], bytes | None]] = {game_topic: {}, click_topic: {}}

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=5, max_request_size=1_048_576)
    try:
        await producer.start()
        for topic, valid, poison in ((game_topic, valid_game, game_poison), (click_topic, valid_click, click_poison)):
            values = [orjson.dumps(e) for e in valid]
            for n, bad in enumerate(poison):
                values.insert(3 + n * (len(values) // (len(poison) + 1)), bad)
            for i, value in enumerate(values):
                metadata = await producer.send_and_wait(topic, value, key=b"k", partition=i % 2)
                sent[topic][(metadata.partition, metadata.offset)] = value
    finally:
        await producer.stop()
    ends = {topic: {p: 1 + max(o for q, o in records if q == p) for p in (0, 1)} for topic, records in sent.items()}

    config = AnalyticsConfig(
        checkpoint_dir=tmp_path / "checkpoints", builtin_queries=False, checkpoint_interval_s=0.2,
        **output_settings(topics),
    )  # fmt: skip
    engine = AnalyticsEngine(list(catalog.values()), kafka_bootstrap, config)
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    try:
        for _ in range(600):
            done = len(engine.runners) == 3 and all(r.offsets == ends[r.query.source.topic] for r in engine.runners)
            if done:
                break
            assert not task.done(), task.exception()
            await asyncio.sleep(0.1)
        assert done, {r.query.name: r.offsets for r in engine.runners}
        assert not task.done()
    finally:
        stop.set()
        await task

    errors = [value for _, value in await read_all(kafka_bootstrap, topics["errors"])]
    per_query: dict[str, dict[tuple[int, int], str]] = {}
    for error in errors:
        routed = per_query.setdefault(error["query"], {})
        assert (error["partition"], error["offset"]) not in routed, f"routed twice: {error}"
        routed[(error["partition"], error["offset"])] = error["reason"]
    bad_game = {position for position, value in sent[game_topic].items() if value in game_poison}
    bad_click = {position for position, value in sent[click_topic].items() if value in click_poison}
    assert set(per_query["copy"]) == bad_game
    assert set(per_query["leaderboard_1m"]) == bad_game
    assert set(per_query["clickstream_clean"]) == bad_click
    for query in ("copy", "leaderboard_1m"):
        example = next(p for p, v in sent[game_topic].items() if v == game_poison[0])
        assert "UTF-8" in per_query[query][example]
    assert "UTF-8" in next(iter(per_query["clickstream_clean"].values()))
    counted = {r.query.name: r.errors for r in engine.runners}
    assert counted == {"copy": len(bad_game), "leaderboard_1m": len(bad_game), "clickstream_clean": len(bad_click)}

    copied = [value["event_id"] for _, value in await read_all(kafka_bootstrap, copy_topic)]
    assert sorted(copied) == sorted(e["event_id"] for e in valid_game)
    cleaned = [value["event_id"] for _, value in await read_all(kafka_bootstrap, clean_topic)]
    assert sorted(cleaned) == sorted(e["event_id"] for e in valid_click)
    latest: dict[bytes | None, Any] = {}
    for key, value in await read_all(kafka_bootstrap, topics["results"]):
        latest[key] = value  # the latest result of each window is its whole current result
    scores: dict[str, int] = {}
    for result in latest.values():
        for row in result["rows"]:
            scores[row["key"]] = scores.get(row["key"], 0) + row["score"]
    expected: dict[str, int] = {}
    for e in valid_game:
        expected[e["player_id"]] = expected.get(e["player_id"], 0) + e["points"]
    assert scores == expected
