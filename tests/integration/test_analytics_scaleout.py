"""Scale-out for real: 1, 2 and 3 worker processes over the same events in Kafka, one of them killed mid-run, give
every window the final result one worker gives (a batch query over all events, which the exactly-once test holds
one worker to), for a Top-N leaderboard and an alert query; the group's members and offsets are Kafka's."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.json as pj
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from analytics import compile_query, load_sources
from analytics.plan import window_plan
from tests.integration.analytics_support import (
    KEMU,
    closing_events,
    engine_env,
    game_events,
    iso,
    produce,
    query_on_new_topics,
)

PARTITIONS = 4
BOARD = """-- Top 5 players per 2-second window, every change emitted.
-- source: test-game
-- emit: changes
-- lateness: 1s
SELECT window_start, window_end,
       ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY (-SUM(points), player_id)) AS rank,
       player_id AS key, SUM(points) AS score, COUNT(*) AS n, MAX(points) AS best
FROM TUMBLE(events, DESCRIPTOR(event_time), INTERVAL '2 seconds')
GROUP BY window_start, window_end, player_id
QUALIFY rank <= 5
"""
ALERT = """-- A player whose points average above 62 in a 2-second window (and who scored at least 5 times).
-- source: test-game
-- output: alerts
-- lateness: 1s
SELECT window_start, window_end, player_id AS key, AVG(points) AS mean, COUNT(*) AS n, MIN(points) AS low
FROM TUMBLE(events, DESCRIPTOR(event_time), INTERVAL '2 seconds')
GROUP BY window_start, window_end, player_id
HAVING AVG(points) > 62 AND COUNT(*) >= 5
"""


def batch_results(query_dir: Path, name: str, text: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The query as one batch statement over all events: what one worker gives every window when it closes."""
    source = load_sources(query_dir / "sources.toml")["test-game"]
    compiled = compile_query(query_dir / f"{name}.sql", text, {"test-game": source})
    lines = b"\n".join(orjson.dumps(e) for e in events)
    table = pj.read_json(pa.py_buffer(lines), parse_options=pj.ParseOptions(explicit_schema=source.arrow_schema()))
    con = duckdb.connect()
    con.register("events", table)
    rows: list[dict[str, Any]] = con.sql(window_plan(compiled).batch_sql).to_arrow_table().to_pylist()
    for row in rows:
        row["window_start"] = iso(int(row["window_start"].timestamp() * 1000))
        row.pop("window_end")
    return rows


class Outputs:
    """Reads a single-partition output topic from the start in the background, keeping the latest value per key."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap, self.topic = bootstrap, topic
        self.latest: dict[str, dict[str, Any]] = {}
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Outputs:
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _read(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        try:
            await consumer.start()
            tp = TopicPartition(self.topic, 0)
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            while True:
                for records in (await consumer.getmany(timeout_ms=300)).values():
                    for record in records:
                        assert record.key is not None
                        assert record.value is not None
                        self.latest[record.key.decode()] = orjson.loads(record.value)
        finally:
            await consumer.stop()

    async def wait_for(self, done: Callable[[dict[str, dict[str, Any]]], bool], what: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not done(self.latest):
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            await asyncio.sleep(0.3)


def children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


async def group_members(bootstrap: str, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        (response,) = await admin.describe_consumer_groups([group])
        (_error, _group, _state, _protocol_type, _protocol, members, *_) = response.groups[0]
        return len(members)
    finally:
        await admin.close()


async def committed(bootstrap: str, group: str) -> dict[int, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        offsets = await admin.list_consumer_group_offsets(group)
        return {tp.partition: meta.offset for tp, meta in offsets.items()}
    finally:
        await admin.close()


@pytest.mark.parametrize("workers", [1, 2, 3])
async def test_n_workers_give_one_workers_final_results_also_when_one_is_killed(
    workers: int,
    kafka_bootstrap: str,
    new_topic: Callable[..., Awaitable[str]],
    unique_name: Callable[[str], str],
    tmp_path: Path,
) -> None:
    source, topics, query_dir = await query_on_new_topics(new_topic, tmp_path / "queries", "board", BOARD, PARTITIONS)
    (query_dir / "hot.sql").write_text(ALERT)
    events = game_events(16_000, partitions=PARTITIONS, seed=workers, step_ms=2)
    closers = closing_events(PARTITIONS)
    prefix = unique_name("grp") + "-"
    env = engine_env(
        kafka_bootstrap,
        query_dir,
        tmp_path / "checkpoints",
        topics,
        KEMU_ANALYTICS__CHECKPOINT_INTERVAL_S="0.3",
        KEMU_ANALYTICS__MAX_BATCH_RECORDS="500",
        KEMU_ANALYTICS__PROGRESS_GROUP_PREFIX=prefix,
    )
    half = len(events) // 2
    await produce(kafka_bootstrap, source, events[:half])
    # Logs to files: a pipe nobody reads until the end would fill up and block the processes that write to it.
    logs = {name: (tmp_path / f"{name}.log").open("wb") for name in ("board", "hot")}
    runs = {
        name: await asyncio.create_subprocess_exec(
            str(KEMU), "analytics", "run", "--query", name, "--workers", str(workers), env=env, stderr=logs[name]
        )
        for name in ("board", "hot")
    }
    try:
        async with (
            Outputs(kafka_bootstrap, topics["results"]) as results,
            Outputs(kafka_bootstrap, topics["alerts"]) as alerts,
        ):
            # Some windows closed: every worker is at work, and partials and checkpoints exist.
            await results.wait_for(lambda latest: sum(v["final"] for v in latest.values()) >= 2, "first finals", 300)
            assert await group_members(kafka_bootstrap, f"{prefix}board") == workers
            if workers > 1:
                for run in runs.values():
                    assert run.returncode is None
                    pids = children(run.pid)
                    assert len(pids) == workers
                    os.kill(pids[0], signal.SIGKILL)
            await produce(kafka_bootstrap, source, events[half:] + closers)

            board = batch_results(query_dir, "board", BOARD, [e for _, e in events + closers])
            expected_board: dict[str, list[dict[str, Any]]] = {}
            for row in board:
                if row["key"] != "closer":
                    expected_board.setdefault(f"board|{row.pop('window_start')}", []).append(row)
            await results.wait_for(
                lambda latest: all(latest.get(k, {}).get("final") for k in expected_board), "every final", 120
            )
            for key, rows in expected_board.items():
                got = [{c: r[c] for c in ("rank", "key", "score", "n", "best")} for r in results.latest[key]["rows"]]
                assert got == [{c: r[c] for c in ("rank", "key", "score", "n", "best")} for r in rows], key

            hot = batch_results(query_dir, "hot", ALERT, [e for _, e in events + closers])
            expected_alerts = {(r["window_start"], r["key"]): r for r in hot}
            assert expected_alerts, "the alert query should fire on these events"
            await results.wait_for(lambda _: len(alerts.latest) >= len(expected_alerts), "every alert", 120)
            got_alerts = {(a["window_start"], a["key"]): a["evidence"] for a in alerts.latest.values()}
            assert set(got_alerts) == set(expected_alerts)
            for identity, row in expected_alerts.items():
                evidence = got_alerts[identity]
                assert (evidence["n"], evidence["low"]) == (row["n"], row["low"])
                assert evidence["mean"] == pytest.approx(row["mean"], rel=1e-12)
    finally:
        for run in runs.values():
            if run.returncode is None:
                run.send_signal(signal.SIGTERM)
        for name, run in runs.items():
            await asyncio.wait_for(run.wait(), 90)
            logs[name].close()
            assert run.returncode == 0, f"{name}: {(tmp_path / f'{name}.log').read_text()[-3000:]}"
    # The group's committed offsets (what kafka-consumer-groups shows) cover the whole source.
    ends = {p: sum(1 for q, _ in events + closers if q == p) for p in range(PARTITIONS)}
    assert await committed(kafka_bootstrap, f"{prefix}board") == ends
