"""Exactly once for real: SIGKILL the engine at random moments; the final results equal an uninterrupted run's."""

from __future__ import annotations

import asyncio
import random
import signal
import time
from asyncio.subprocess import DEVNULL, PIPE
from collections.abc import Awaitable, Callable
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.json as pj

from analytics import compile_query, load_checkpoint, load_sources
from analytics.plan import window_plan
from tests.integration.analytics_support import (
    BASE_MS,
    KEMU,
    closing_events,
    engine_env,
    game_events,
    iso,
    produce,
    query_on_new_topics,
    read_all,
)

QUERY = """-- Top 5 players per 2-second window, every change emitted.
-- source: test-game
-- emit: changes
-- lateness: 1s
SELECT window_start, window_end,
       CAST(ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY SUM(points) DESC, player_id) AS INTEGER) AS rank,
       player_id AS key, SUM(points) AS score, COUNT(*) AS n
FROM TUMBLE(events, DESCRIPTOR(event_time), INTERVAL '2 seconds')
GROUP BY window_start, window_end, player_id
QUALIFY rank <= 5
"""


def expected_finals(events: list[dict[str, object]], query_dir: Path) -> dict[str, list[dict[str, object]]]:
    """The same query as one batch statement over all events (what an uninterrupted run must give)."""
    source = load_sources(query_dir / "sources.toml")["test-game"]
    compiled = compile_query(query_dir / "lb_kill.sql", QUERY, {"test-game": source})
    lines = b"\n".join(orjson.dumps(e) for e in events)
    table = pj.read_json(pa.py_buffer(lines), parse_options=pj.ParseOptions(explicit_schema=source.arrow_schema()))
    con = duckdb.connect()
    con.register("events", table)
    expected: dict[str, list[dict[str, object]]] = {}
    for row in con.sql(window_plan(compiled).batch_sql).to_arrow_table().to_pylist():
        key = f"lb_kill|{row['window_start'].strftime('%Y-%m-%dT%H:%M:%S.000Z')}"
        expected.setdefault(key, []).append(
            {"rank": row["rank"], "key": row["key"], "score": int(row["score"]), "n": row["n"]}
        )
    return expected


async def test_sigkill_at_random_moments_changes_nothing(
    kafka_bootstrap: str, new_topic: Callable[..., Awaitable[str]], tmp_path: Path
) -> None:
    source, topics, query_dir = await query_on_new_topics(new_topic, tmp_path / "queries", "lb_kill", QUERY, 3)
    events = game_events(30_000, partitions=3, step_ms=1)
    closers = closing_events(3)
    await produce(kafka_bootstrap, source, events + closers)

    checkpoints = tmp_path / "checkpoints"
    env = engine_env(
        kafka_bootstrap,
        query_dir,
        checkpoints,
        topics,
        KEMU_ANALYTICS__CHECKPOINT_INTERVAL_S="0.2",
        KEMU_ANALYTICS__MAX_BATCH_RECORDS="400",
    )
    command = [str(KEMU), "analytics", "run", "--query", "lb_kill"]
    fingerprint = compile_query(query_dir / "lb_kill.sql", QUERY, load_sources(query_dir / "sources.toml")).fingerprint
    total = len(events) + len(closers)

    def progress() -> int:
        checkpoint = load_checkpoint(checkpoints / "lb_kill.ckpt", "lb_kill", fingerprint)
        return sum(checkpoint.offsets.values()) if checkpoint else 0

    rng = random.Random(11)
    for _ in range(4):
        # Kill once the run is some way further through the input, plus a random fraction of a checkpoint
        # interval, so kills land between checkpoints as well as just after them.
        target = progress() + int(total * rng.uniform(0.08, 0.18))
        process = await asyncio.create_subprocess_exec(*command, env=env, stdout=DEVNULL, stderr=DEVNULL)
        deadline = time.monotonic() + 60
        while progress() < target:
            assert process.returncode is None, "the engine stopped by itself"
            assert time.monotonic() < deadline, "the engine made no progress"
            await asyncio.sleep(0.05)
        await asyncio.sleep(rng.uniform(0.0, 0.3))
        process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(process.wait(), 10)
        assert 0 < progress() < total, "the kill should land while the engine is part-way through the input"

    started = time.time()
    process = await asyncio.create_subprocess_exec(*command, env=env, stdout=DEVNULL, stderr=PIPE)
    deadline = time.monotonic() + 120
    checkpoint_file = checkpoints / "lb_kill.ckpt"
    # Done when this run has written a checkpoint of its own that covers the whole input.
    while not (progress() == total and checkpoint_file.stat().st_mtime > started + 0.5):
        assert process.returncode is None, "the engine stopped by itself"
        assert time.monotonic() < deadline, "the engine made no progress"
        await asyncio.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    assert progress() == total

    latest: dict[str, dict[str, object]] = {}
    for key, value in await read_all(kafka_bootstrap, topics["results"]):
        assert key is not None
        latest[key.decode()] = value
    finals = {k: v for k, v in latest.items() if v["final"]}
    expected = expected_finals([e for _, e in events + closers], query_dir)
    closing_window = f"lb_kill|{iso(BASE_MS + 3_600_000 - (BASE_MS + 3_600_000) % 2000)}"
    expected.pop(closing_window)
    assert set(finals) == set(expected)
    for key, rows in expected.items():
        got = [{"rank": r["rank"], "key": r["key"], "score": r["score"], "n": r["n"]} for r in finals[key]["rows"]]
        assert got == rows, key
    assert await read_all(kafka_bootstrap, topics["late"]) == []
