"""Benchmark of the analytics engine on the leaderboard query (not a test; prints one JSON document).

Phases, all on the same local broker in one run:
1. pre-load N game events into a fresh topic;
2. raw consume ceiling: aiokafka ``getmany`` over those events, doing nothing; and the same for the engine's own
   lean reader (``analytics.reader``), which reads faster than ``getmany``;
3. kemu: the built-in ``leaderboard_1m`` query (1-minute tumbling sum of points per player, top 10) over the same
   events, in this process, until every event is processed;
4. Quix Streams: the same tumbling sum and top-10 over the same events, in its own process;
(``--breakdown``: the reader's, the decode's and the query's CPU per event, each measured on its own;)
5. live: a producer at a fixed rate, the engine as ``kemu analytics run`` in its own process; freshness is the time
   from Kafka acknowledging an event to a result record covering its offset arriving on the results topic; RSS
   of the engine process is sampled every second.

    .venv/bin/python bench/analytics_leaderboard.py --events 1000000 --live-rate 20000 --live-seconds 600
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import gc
import json
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import psutil
import pyarrow as pa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics import AnalyticsConfig, AnalyticsEngine, load_queries
from analytics.decode import Decoder
from analytics.protocol import make_operator
from analytics.reader import CONSUMER_FETCH, Fetched, PartitionReader
from bench.analytics_support import (
    bootstrap_address,
    create_topic,
    delete_topics,
    env_with,
    game_event,
    iso,
    preload,
)
from emulator.runtime.child_side import die_with_parent
from foundation.clock import now_ms
from producers.partitioning import shard_for_partition_key

KEMU = Path(sys.executable).parent / "kemu"


def sources_toml(topic: str) -> str:
    # Overrides the built-in game-events source so the built-in leaderboard query reads the bench topic.
    return f"""[sources.game-events]
topic = "{topic}"
event_time = "event_time"
out_of_orderness = "2s"
idle_timeout = "10s"

[sources.game-events.columns]
event_id = "VARCHAR"
event_type = "VARCHAR"
event_time = "TIMESTAMP"
player_id = "VARCHAR"
match_id = "VARCHAR"
level = "BIGINT"
points = "BIGINT"
"""


async def raw_ceiling(bootstrap: str, topic: str, partitions: int, count: int) -> dict[str, Any]:
    # The same conditions as the engine's consumer: its fetch sizes, and the heap frozen as the engine does.
    gc.freeze()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, **CONSUMER_FETCH)
    try:
        await consumer.start()
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        seen = 0
        began = time.monotonic()
        while seen < count:
            data = await consumer.getmany(timeout_ms=1000, max_records=AnalyticsConfig().max_batch_records)
            seen += sum(len(records) for records in data.values())
        elapsed = time.monotonic() - began
    finally:
        await consumer.stop()
    return {"events": seen, "seconds": round(elapsed, 3), "events_per_s": round(seen / elapsed)}


async def reader_ceiling(bootstrap: str, topic: str, partitions: int, count: int) -> dict[str, Any]:
    """The engine's partition reader over the same events, doing nothing else."""
    gc.freeze()
    reader = PartitionReader(bootstrap, topic)
    await reader.start()
    try:
        reader.assign(list(range(partitions)))
        await reader.seek_to(reader.partitions, "earliest")
        seen = 0
        began = time.monotonic()
        while seen < count:
            seen += (await reader.fetch(AnalyticsConfig().max_batch_records)).count
        elapsed = time.monotonic() - began
    finally:
        await reader.close()
    return {"events": seen, "seconds": round(elapsed, 3), "events_per_s": round(seen / elapsed)}


async def kemu_throughput(bootstrap: str, topic: str, count: int, workdir: Path) -> dict[str, Any]:
    query_dir = workdir / "queries-throughput"
    query_dir.mkdir()
    (query_dir / "sources.toml").write_text(sources_toml(topic))
    query = load_queries([query_dir])["leaderboard_1m"]
    outputs = {kind: f"{topic}-{kind}" for kind in ("results", "alerts", "late", "errors")}
    config = AnalyticsConfig(
        checkpoint_dir=workdir / "checkpoints-throughput",
        checkpoint_interval_s=1.0,
        results_topic=outputs["results"],
        alerts_topic=outputs["alerts"],
        late_events_topic=outputs["late"],
        errors_topic=outputs["errors"],
    )
    engine = AnalyticsEngine([query], bootstrap, config)
    stop = asyncio.Event()
    process = psutil.Process()
    began = time.monotonic()
    task = asyncio.create_task(engine.run(stop))
    peak_rss = 0
    while not engine.runners or engine.runners[0].events < count:
        if task.done():
            task.result()
        peak_rss = max(peak_rss, process.memory_info().rss)
        await asyncio.sleep(0.05)
    ended = time.monotonic()
    stop.set()
    await task
    runner = engine.runners[0]
    # Like the ceiling's, the clock starts once the consumer is assigned and positioned; the start-up before that
    # (creating the output topics, loading the checkpoint) is reported apart.
    consuming = runner.consuming_since or began
    elapsed = ended - consuming
    return {
        "events": runner.events,
        "seconds": round(elapsed, 3),
        "events_per_s": round(runner.events / elapsed),
        "startup_seconds": round(consuming - began, 3),
        "events_per_s_with_startup": round(runner.events / (ended - began)),
        "micro_batches": runner.batches,
        "open_windows_at_end": getattr(runner.operator, "open_windows", None),
        "peak_rss_mb": round(peak_rss / 2**20, 1),
        "output_topics": list(outputs.values()),
    }


async def breakdown(bootstrap: str, topic: str, partitions: int, count: int, workdir: Path) -> dict[str, Any]:
    """Where the engine's CPU goes on the leaderboard, in µs an event, one part at a time on this thread: the reader
    fetching every batch (kept in memory), then each batch's decode, then each decoded batch's fold into the
    query's operator (checkpoints and outputs left out). Process CPU time (Arrow's reader and DuckDB use threads of
    their own), which the machine's load moves much less than wall time."""
    query_dir = workdir / "queries-breakdown"
    query_dir.mkdir()
    (query_dir / "sources.toml").write_text(sources_toml(topic))
    query = load_queries([query_dir])["leaderboard_1m"]
    batches: list[Fetched] = []
    reader = PartitionReader(bootstrap, topic)
    await reader.start()
    try:
        reader.assign(list(range(partitions)))
        await reader.seek_to(reader.partitions, "earliest")
        began = time.process_time()
        seen = 0
        while seen < count:
            batches.append(await reader.fetch(AnalyticsConfig().max_batch_records))
            seen += batches[-1].count
        read = time.process_time() - began
    finally:
        await reader.close()
    decoder, operator = Decoder.for_query(query), make_operator(query)
    operator.assign(list(range(partitions)), 0)
    decoded = []
    began = time.process_time()
    for fetched in batches:
        tables = [decoder.decode(partition, offsets, values)[0] for partition, offsets, values in fetched.parts]
        decoded.append(pa.concat_tables(tables))
    decode = time.process_time() - began
    # The same batches decoded with every declared column, as before decoding was narrowed to the columns read.
    window_ms = query.window.size_ms if query.window is not None else 0
    everything = Decoder(query.source, query.name, window_ms=window_ms)
    began = time.process_time()
    for fetched in batches:
        for partition, offsets, values in fetched.parts:
            everything.decode(partition, offsets, values)
    decode_all = time.process_time() - began
    began = time.process_time()
    for table in decoded:
        operator.process(table, 0)
    fold = time.process_time() - began

    def per_event(seconds: float) -> float:
        return round(seconds / seen * 1e6, 3)

    return {
        "events": seen,
        "batches": len(batches),
        "decoded_columns": decoder.columns,
        "reader_cpu_us_per_event": per_event(read),
        "decode_cpu_us_per_event": per_event(decode),
        "decode_every_column_cpu_us_per_event": per_event(decode_all),
        "query_cpu_us_per_event": per_event(fold),
    }


def quix_throughput(bootstrap: str, topic: str, count: int, timeout_s: float) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).with_name("analytics_quix.py"))]
    command += ["--bootstrap", bootstrap, "--topic", topic, "--count", str(count)]
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish within {timeout_s} s"}
    lines = [line for line in done.stdout.decode().splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"error": done.stderr.decode()[-500:]}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def live(
    bootstrap: str, partitions: int, players: int, rate: int, seconds: float, workdir: Path
) -> dict[str, Any]:
    topic = await create_topic(bootstrap, partitions, "bench-analytics-live")
    results_topic = f"{topic}-results"
    query_dir = workdir / "queries-live"
    query_dir.mkdir()
    (query_dir / "sources.toml").write_text(sources_toml(topic))
    checkpoints = workdir / "checkpoints-live"
    env = env_with(
        KEMU_KAFKA__BOOTSTRAP_SERVERS=bootstrap,
        KEMU_ANALYTICS__QUERY_DIRS=json.dumps([str(query_dir)]),
        KEMU_ANALYTICS__CHECKPOINT_DIR=str(checkpoints),
        KEMU_ANALYTICS__START_FROM="earliest",
        KEMU_ANALYTICS__RESULTS_TOPIC=results_topic,
        KEMU_ANALYTICS__ALERTS_TOPIC=f"{topic}-alerts",
        KEMU_ANALYTICS__LATE_EVENTS_TOPIC=f"{topic}-late",
        KEMU_ANALYTICS__ERRORS_TOPIC=f"{topic}-errors",
    )
    log = open(workdir / "engine-live.log", "wb")  # noqa: SIM115, ASYNC230 - closed after the process
    command = [str(KEMU), "analytics", "run", "--query", "leaderboard_1m"]
    # The engine gets SIGTERM if this benchmark dies (a kill -9 of it must not leave an engine running on).
    engine = subprocess.Popen(  # noqa: ASYNC220 - runs for the whole phase
        command, env=env, stderr=log, preexec_fn=lambda: die_with_parent(0)
    )
    # Per partition: the offsets each result record covers and when it became visible to a reader.
    covered: dict[int, list[int]] = {p: [] for p in range(partitions)}
    visible: dict[int, list[float]] = {p: [] for p in range(partitions)}
    acked: list[tuple[int, int, float]] = []
    rss: list[tuple[float, int]] = []
    stop = asyncio.Event()

    async def read_results() -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        try:
            await consumer.start()
            tp = TopicPartition(results_topic, 0)
            while True:  # the engine creates the topic when it starts
                try:
                    consumer.assign([tp])
                    await consumer.seek_to_beginning(tp)
                    break
                except Exception:
                    await asyncio.sleep(0.2)
            while not stop.is_set():
                data = await consumer.getmany(timeout_ms=100)
                now = time.time()
                for records in data.values():
                    for record in records:
                        offsets = orjson.loads(record.value).get("source_offsets", {})
                        for p, o in offsets.items():
                            partition = int(p)
                            if not covered[partition] or o > covered[partition][-1]:
                                covered[partition].append(o)
                                visible[partition].append(now)
        finally:
            await consumer.stop()

    async def sample_rss() -> None:
        process = psutil.Process(engine.pid)
        started = time.monotonic()
        while not stop.is_set():
            rss.append((time.monotonic() - started, process.memory_info().rss))
            await asyncio.sleep(1.0)

    reader = asyncio.create_task(read_results())
    sampler = asyncio.create_task(sample_rss())
    while not (checkpoints / "leaderboard_1m.ckpt").exists():  # the engine is up once it has checkpointed
        if engine.poll() is not None:
            raise SystemExit((workdir / "engine-live.log").read_text())
        await asyncio.sleep(0.2)

    rng = random.Random(7)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=1, max_batch_size=1 << 20)
    try:
        await producer.start()
        sent = 0
        began = time.monotonic()
        tick = 0.01
        per_tick = max(1, int(rate * tick))

        def on_ack(future: asyncio.Future[Any], partition: int, count: int) -> None:
            # A batch is fresh once a result covers its last record, the most recent of the batch.
            if not future.cancelled() and future.exception() is None:
                acked.append((partition, future.result().offset + count - 1, time.time()))

        # Events are generated up front with a fixed-width placeholder time, stamped with the send time in the loop,
        # so the producer (not the engine) is never what limits the rate.
        placeholder = iso(0).encode()
        pool = []
        for i in range(min(rate * 5, 200_000)):
            key, value = game_event(i, rng, players, 0)
            pool.append((key.encode(), shard_for_partition_key(key, partitions), value))
        while time.monotonic() - began < seconds:
            stamp = iso(now_ms()).encode()
            batches: dict[int, Any] = {}
            counts: dict[int, int] = {}
            for _ in range(per_tick):
                key_bytes, partition, template = pool[sent % len(pool)]
                batch = batches.get(partition) or batches.setdefault(partition, producer.create_batch())
                value = template.replace(placeholder, stamp, 1)
                if batch.append(key=key_bytes, value=value, timestamp=None) is None:
                    raise SystemExit("a tick's events do not fit one batch; lower --live-rate")
                counts[partition] = counts.get(partition, 0) + 1
                sent += 1
            for partition, batch in batches.items():
                batch.close()
                future = await producer.send_batch(batch, topic, partition=partition)
                future.add_done_callback(lambda f, p=partition, n=counts[partition]: on_ack(f, p, n))
            delay = began + sent / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        await producer.flush()
    finally:
        await producer.stop()
    produced_for = time.monotonic() - began
    await asyncio.sleep(3.0)
    stop.set()
    await asyncio.gather(reader, sampler)
    engine.send_signal(signal.SIGTERM)
    engine.wait(timeout=60)
    log.close()

    freshness: list[float] = []
    missing = 0
    for partition, offset, ack_time in acked:
        index = bisect.bisect_right(covered[partition], offset)
        if index >= len(covered[partition]):
            missing += 1
            continue
        freshness.append(max(0.0, visible[partition][index] - ack_time))
    await delete_topics(bootstrap, [topic, results_topic, f"{topic}-alerts", f"{topic}-late", f"{topic}-errors"])
    return {
        "target_rate": rate,
        "achieved_rate": round(sent / produced_for),
        "seconds": round(produced_for, 1),
        "events": sent,
        "freshness_batches": len(freshness),
        "freshness_not_seen": missing,
        "freshness_p50_s": percentile(freshness, 0.50),
        "freshness_p99_s": percentile(freshness, 0.99),
        **rss_summary(rss),
    }


def rss_summary(samples: list[tuple[float, int]]) -> dict[str, Any]:
    """RSS samples ``(seconds since start, bytes)`` as the figures flatness is judged by: medians of the first and
    last thirds, the maximum, and the least-squares slope over the last half in MB per minute."""
    mb = [value / 2**20 for _, value in samples]
    third = len(mb) // 3
    half = samples[len(samples) // 2 :]
    slope = None
    if len(half) >= 2:
        xs = [t / 60 for t, _ in half]
        ys = [value / 2**20 for _, value in half]
        mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
        spread = sum((x - mean_x) ** 2 for x in xs)
        if spread > 0:
            slope = round(sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread, 3)
    return {
        "rss_mb_first_third_median": round(statistics.median(mb[:third]), 1) if third else None,
        "rss_mb_last_third_median": round(statistics.median(mb[-third:]), 1) if third else None,
        "rss_mb_max": round(max(mb), 1) if mb else None,
        "rss_mb_per_min_last_half": slope,
        "rss_samples": len(mb),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="pre-loaded events for the throughput phases")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--players", type=int, default=10_000)
    parser.add_argument("--span-minutes", type=float, default=10.0, help="event-time span of the pre-loaded events")
    parser.add_argument("--no-quix", action="store_true", help="skip the Quix Streams peer")
    parser.add_argument(
        "--quix-events", type=int, default=300_000, help="Quix reads the first N of the events (it is much slower)"
    )
    parser.add_argument("--live-rate", type=int, default=20_000, help="events/s of the live phase")
    parser.add_argument("--live-seconds", type=float, default=600.0, help="0 skips the live phase")
    parser.add_argument("--no-live", action="store_true", help="skip the live phase")
    parser.add_argument(
        "--topic", help="reuse this already pre-loaded topic (e.g. from --keep-topic) instead of loading a new one"
    )
    parser.add_argument("--keep-topic", action="store_true", help="do not delete the pre-loaded topic at the end")
    parser.add_argument(
        "--breakdown", action="store_true", help="also measure the reader, decode and query CPU per event apart"
    )
    args = parser.parse_args()

    bootstrap = bootstrap_address()
    report: dict[str, Any] = {
        "benchmark": "analytics_leaderboard",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": psutil.cpu_count(), "python": platform.python_version(), "load_avg": psutil.getloadavg()},
        "events": args.events,
        "partitions": args.partitions,
        "players": args.players,
    }
    with tempfile.TemporaryDirectory(prefix="bench-analytics-") as tmp:
        workdir = Path(tmp)
        topic = args.topic or await create_topic(bootstrap, args.partitions)
        report["topic"] = topic
        try:
            if not args.topic:
                span_ms = int(args.span_minutes * 60_000)
                report["preload_seconds"] = round(
                    await preload(bootstrap, topic, args.partitions, args.events, args.players, span_ms), 2
                )
            report["raw_consume"] = await raw_ceiling(bootstrap, topic, args.partitions, args.events)
            report["reader_consume"] = await reader_ceiling(bootstrap, topic, args.partitions, args.events)
            report["kemu"] = await kemu_throughput(bootstrap, topic, args.events, workdir)
            if args.breakdown:
                report["breakdown"] = await breakdown(bootstrap, topic, args.partitions, args.events, workdir)
            if not args.no_quix:
                quix_events = min(args.events, args.quix_events)
                report["quix"] = quix_throughput(bootstrap, topic, quix_events, timeout_s=max(120, quix_events / 500))
        finally:
            doomed = list(report.get("kemu", {}).get("output_topics", []))
            if not (args.topic or args.keep_topic):
                doomed.append(topic)
            await delete_topics(bootstrap, doomed)
        kemu_rate = report["kemu"]["events_per_s"]
        report["kemu_vs_raw_consume"] = round(kemu_rate / report["raw_consume"]["events_per_s"], 3)
        report["kemu_vs_reader_consume"] = round(kemu_rate / report["reader_consume"]["events_per_s"], 3)
        quix_rate = report.get("quix", {}).get("events_per_s")
        report["kemu_vs_quix"] = round(kemu_rate / quix_rate, 2) if quix_rate else None
        if args.live_seconds > 0 and not args.no_live:
            report["live"] = await live(
                bootstrap, args.partitions, args.players, args.live_rate, args.live_seconds, workdir
            )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
