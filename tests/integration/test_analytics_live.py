"""The live engine on the real broker: results, late events and malformed records each reach their topic."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from analytics import (
    AnalyticsConfig,
    AnalyticsEngine,
    Checkpoint,
    LatestResults,
    load_checkpoint,
    load_queries,
    save_checkpoint,
)
from tests.integration.analytics_support import (
    BASE_MS,
    iso,
    output_settings,
    query_on_new_topics,
    read_all,
    write_query_dir,
)

QUERY = """-- source: test-game
-- emit: final
-- out_of_orderness: 0s
-- lateness: 0s
SELECT window_start, window_end, player_id AS key, SUM(points) AS score
FROM TUMBLE(events, DESCRIPTOR(event_time), INTERVAL '1 second')
GROUP BY window_start, window_end, player_id
ORDER BY key
"""


def event(i: int, t_ms: int, player: str, points: int) -> bytes:
    return orjson.dumps(
        {"event_id": f"e{i}", "event_type": "score", "event_time": iso(BASE_MS + t_ms), "player_id": player,
         "points": points}
    )  # fmt: skip


async def test_results_late_events_and_errors_are_routed(
    kafka_bootstrap: str, new_topic: Callable[..., Awaitable[str]], tmp_path: Path
) -> None:
    source, topics, query_dir = await query_on_new_topics(new_topic, tmp_path / "queries", "live_sum", QUERY)
    first = [event(0, 100, "a", 1), event(1, 200, "b", 2), event(2, 900, "a", 3), event(3, 1_500, "a", 4)]
    first += [b"{not json", event(4, 2_500, "b", 5)]
    # Sent once the engine has processed the first part: late for the window [0, 1 s) that has closed by then.
    then = [event(5, 300, "a", 100), event(6, 9_000, "z", 0)]

    config = AnalyticsConfig(
        checkpoint_dir=tmp_path / "checkpoints",
        builtin_queries=False,
        **output_settings(topics),
        checkpoint_interval_s=0.1,
        progress_group_prefix=f"{source}-",
    )
    latest = LatestResults()
    engine = AnalyticsEngine([load_queries([query_dir], builtins=False)["live_sum"]], kafka_bootstrap, config, latest)
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    try:
        await producer.start()

        async def send_and_wait_processed(values: list[bytes], through: int) -> None:
            for value in values:
                await producer.send_and_wait(source, value, partition=0)
            for _ in range(300):
                if engine.runners and engine.runners[0].offsets.get(0) == through:
                    return
                assert not task.done(), task
                await asyncio.sleep(0.1)
            raise AssertionError("the engine did not process the records")

        await send_and_wait_processed(first, len(first))
        await send_and_wait_processed(then, len(first) + len(then))
    finally:
        await producer.stop()
        stop.set()
        await task

    results = [value for _, value in await read_all(kafka_bootstrap, topics["results"])]
    by_window = {r["window_start"]: [(row["key"], row["score"]) for row in r["rows"]] for r in results}
    assert by_window == {
        iso(BASE_MS): [("a", 4), ("b", 2)],  # the late 100 points are not in the final result...
        iso(BASE_MS + 1_000): [("a", 4)],
        iso(BASE_MS + 2_000): [("b", 5)],
    }
    assert all(r["final"] for r in results)
    # Each result says when the engine had read the batch it covers: the engine's own share of the freshness is
    # emitted_at - read_at (bench/freshness_profile.py), and it is never negative.
    assert all(datetime.fromisoformat(r["read_at"]) <= datetime.fromisoformat(r["emitted_at"]) for r in results)
    late = [value for _, value in await read_all(kafka_bootstrap, topics["late"])]
    assert [(x["event"]["event_id"], x["offset"]) for x in late] == [("e5", 6)]  # ...they are routed, with evidence
    assert engine.runners[0].operator.late_count == 1
    errors = [value for _, value in await read_all(kafka_bootstrap, topics["errors"])]
    assert [(e["offset"], e["record"]) for e in errors] == [(4, "{not json")]
    assert "malformed record" in errors[0]["reason"]
    assert [r.window_start_ms for r in latest.latest("live_sum")] == [BASE_MS + 2_000, BASE_MS + 1_000, BASE_MS]

    # The engine's progress is visible to Kafka's tooling: its consumer group holds the checkpoint's offsets.
    checkpoint = load_checkpoint(tmp_path / "checkpoints" / "live_sum.ckpt", "live_sum", engine.queries[0].fingerprint)
    assert checkpoint is not None
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        await admin.start()
        committed = await admin.list_consumer_group_offsets(f"{source}-live_sum")
    finally:
        await admin.close()
    assert {tp.partition: meta.offset for tp, meta in committed.items() if tp.topic == source} == checkpoint.offsets
    assert checkpoint.offsets == {0: len(first) + len(then)}


async def test_a_checkpoint_of_another_cluster_is_not_resumed(
    kafka_bootstrap: str, new_topic: Callable[..., Awaitable[str]], tmp_path: Path
) -> None:
    """After `kemu services purge` the topics start at offset 0 again: offsets checkpointed against the old cluster
    must not be sought (they would skip the new data); the query starts over and reads every record."""
    source = await new_topic(partitions=1)
    results_topic = await new_topic(partitions=1)
    query = load_queries([write_query_dir(tmp_path / "queries", source, "live_sum", QUERY)], builtins=False)["live_sum"]
    config = AnalyticsConfig(
        checkpoint_dir=tmp_path / "checkpoints", builtin_queries=False, results_topic=results_topic,
        checkpoint_interval_s=0.1,
    )  # fmt: skip
    stale = Checkpoint(query.name, query.fingerprint, {0: 1_000_000}, cluster_id="a-purged-cluster")
    save_checkpoint(config.checkpoint_dir / f"{query.name}.ckpt", stale)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    try:
        await producer.start()
        for i, t in enumerate((100, 200, 1_500)):
            await producer.send_and_wait(source, event(i, t, "a", 1), partition=0)
    finally:
        await producer.stop()
    engine = AnalyticsEngine([query], kafka_bootstrap, config)
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    try:
        for _ in range(300):
            if engine.runners and engine.runners[0].offsets.get(0) == 3:
                break
            assert not task.done(), task
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await task
    assert engine.runners[0].offsets == {0: 3}
    written = load_checkpoint(config.checkpoint_dir / f"{query.name}.ckpt", query.name, query.fingerprint)
    assert written is not None
    assert written.offsets == {0: 3}
    assert written.cluster_id not in (None, "a-purged-cluster")
