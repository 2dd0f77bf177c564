"""Where the leaderboard's freshness goes: one event's way from the producer to ``GET /leaderboards``, stage by stage.

    .venv/bin/python -m bench.freshness_profile --minutes 3 --game-rate 20000 --plot docs/freshness_profile.png

Starts ``kemu up`` as ``bench/hour_run.py`` does (the game stream at ``--game-rate``, every built-in query, the
sinks) and, while it runs, watches three places at once:

- the source: a reader of one partition of ``game-events``, from its end. For the newest record of each fetch, the
  producer's share (the record's Kafka timestamp, stamped when the producer added it to a batch, minus its
  ``event_time``) and Kafka's (when a reader has it, minus that timestamp);
- the results: a reader of the run's results topic. Each emission of the board says what it covers (``watermark``
  plus the source's out-of-orderness is the newest event time it has, the minimum over the partitions of each one's
  newest), when the engine read the batch (``read_at``) and when it emitted it (``emitted_at``);
- the API: ``GET /leaderboards/<board>`` every ``--poll-every`` seconds at a random phase, as a user polls it.

Each poll's freshness (its time minus the newest event time covered, what ``bench/hour_run.py`` reports) is split
exactly into three parts that add up to it, by finding the served emission among those read from the results topic:

    freshness = (read_at - newest event)       events reaching the engine: producer, Kafka, the engine's pause
              + (emitted_at - read_at)         the engine computing the batch (decode, every query, outputs)
              + (poll - emitted_at)            the emission reaching the API and waiting there for the poll

The first is split further with the source reader's figures, the last with the results reader's (when a reader has
an emission) and the gap between emissions. Each part is given as mean, p50, p90, p99 in ms; the means add up.
Not a test: nothing here asserts a speed. One JSON document on stdout, a table on stderr, a PNG with ``--plot``.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.api_latency import (
    add_kemu_up_arguments,
    bootstrap_of,
    get,
    kemu_up,
    progress,
    service_addresses,
    wait_for_board,
)
from bench.hour_run import BOARD, OUT_OF_ORDERNESS_S, percentile
from bench.report import header, load_averages
from emulator.settings import Settings
from producers.realism import record_time

#: The demo's game stream (producers/config.py): the source of every built-in leaderboard.
GAME_TOPIC = "game-events"
#: Kafka's timestamp types: 0 is CreateTime (the producer's clock when it batched the record), 1 LogAppendTime.
_TIMESTAMP_TYPES = {0: "CreateTime (producer batches the record)", 1: "LogAppendTime (broker appends it)"}


def seconds(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


# --- pure parts (tests/unit/bench/test_freshness_profile.py) ------------------------------------------------------


@dataclass(frozen=True)
class Emission:
    """One emission of the board as the results reader got it: what it covers and when each step happened (s)."""

    window_start: str
    emitted_at: str
    newest_event: float  # watermark + out-of-orderness
    read_at: float
    emitted: float
    received: float  # when the results reader had it


@dataclass(frozen=True)
class Poll:
    """One ``GET /leaderboards/<board>``: when it was sent, and which emission it served."""

    sent: float
    window_start: str
    emitted_at: str
    newest_event: float


@dataclass
class Profile:
    """Every observation of a run, split into stages by :meth:`stages`."""

    #: (producer's share, Kafka's share) in seconds, one pair per sampled source record.
    source: list[tuple[float, float]] = field(default_factory=list)
    emissions: list[Emission] = field(default_factory=list)
    polls: list[Poll] = field(default_factory=list)
    timestamp_type: int | None = None

    def stages(self) -> dict[str, dict[str, Any]]:
        """Each stage's figures in ms; the three parts of ``freshness`` add up to it poll by poll (over the polls
        whose emission the results reader had)."""
        in_order = sorted(self.emissions, key=lambda e: e.emitted)
        by_key = {(e.window_start, e.emitted_at): e for e in in_order}
        # The results topic has one partition, written in emission order, so a reader has the emissions in that
        # order: of those newer than a served one, the first it had is the first emitted after it.
        emitted = [e.emitted for e in in_order]
        freshness, reaching, computing, waiting, behind = [], [], [], [], []
        matched = 0
        for poll in self.polls:
            emission = by_key.get((poll.window_start, poll.emitted_at))
            if emission is None:
                continue  # emitted before the results reader started: it cannot be split, so it is left out
            matched += 1
            freshness.append(poll.sent - poll.newest_event)
            reaching.append(emission.read_at - emission.newest_event)
            computing.append(emission.emitted - emission.read_at)
            waiting.append(poll.sent - emission.emitted)
            # How long a newer emission had been readable when the poll was sent: the API's own delay, if any.
            later = bisect.bisect_right(emitted, emission.emitted)
            newer = in_order[later].received if later < len(in_order) else None
            behind.append(poll.sent - newer if newer is not None and newer <= poll.sent else 0.0)
        gaps = [b.emitted - a.emitted for a, b in itertools.pairwise(in_order)]
        return {
            "freshness": figures(freshness),
            "1 events reach the engine (read_at - newest event)": figures(reaching),
            "1a producer: event_time to Kafka timestamp": figures([p for p, _ in self.source]),
            "1b Kafka: timestamp to a reader having it": figures([k for _, k in self.source]),
            "2 engine computes (emitted_at - read_at)": figures(computing),
            "3 served after emission (poll - emitted_at)": figures(waiting),
            "3a results topic: emitted_at to a reader having it": figures(
                [e.received - e.emitted for e in self.emissions]
            ),
            "3b API behind a newer emission a reader had": figures(behind),
            "gap between emissions": figures(gaps),
            "_polls_matched": {"polls": len(self.polls), "matched": matched},
        }


def figures(values_s: list[float]) -> dict[str, Any]:
    """count, mean, p50, p90, p99, max of seconds, in ms."""
    if not values_s:
        return {"count": 0}
    ms = [v * 1000 for v in values_s]
    return {
        "count": len(ms),
        "mean_ms": round(statistics.fmean(ms), 1),
        "p50_ms": round(percentile(ms, 0.50) or 0.0, 1),
        "p90_ms": round(percentile(ms, 0.90) or 0.0, 1),
        "p99_ms": round(percentile(ms, 0.99) or 0.0, 1),
        "max_ms": round(max(ms), 1),
    }


def event_time(value: bytes | None) -> str | None:
    """A record's ``event_time``, None for a record without one (the demo may inject malformed records)."""
    if value is None:
        return None
    try:
        return record_time((b"", value)).decode()
    except (ValueError, TypeError, KeyError):
        return None


# --- measuring ------------------------------------------------------------------------------------------------------


async def read_source(bootstrap: str, profile: Profile, stop: asyncio.Event) -> None:
    """The newest event of each fetch of partition 0 of the game stream: producer's and Kafka's shares.

    Newest by event time, as the watermark goes: the last record of a fetch may be one the demo held back on purpose
    (its out-of-order share, seconds late), which says nothing about how long sending takes."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        await consumer.start()
        partition = TopicPartition(GAME_TOPIC, 0)
        consumer.assign([partition])
        await consumer.seek_to_end(partition)
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=100_000)
            now = time.time()
            for messages in batches.values():
                timed = [(event_time(m.value), m) for m in messages]
                event, newest = max(
                    ((t, m) for t, m in timed if t is not None), key=lambda pair: pair[0], default=(None, None)
                )
                if event is None or newest is None:
                    continue
                profile.timestamp_type = newest.timestamp_type
                stamped = newest.timestamp / 1000
                profile.source.append((stamped - seconds(event), now - stamped))
    finally:
        await consumer.stop()


async def read_results(bootstrap: str, topic: str, profile: Profile, stop: asyncio.Event) -> None:
    """Every emission of the board, with when this reader had it."""
    # Subscribed without a group: every partition, from its end.
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, auto_offset_reset="latest"
    )
    try:
        await consumer.start()
        consumer.subscribe([topic])
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200)
            now = time.time()
            for messages in batches.values():
                for message in messages:
                    document = orjson.loads(message.value or b"{}")
                    if document.get("query") != BOARD or "read_at" not in document:
                        continue
                    profile.emissions.append(
                        Emission(
                            window_start=document["window_start"],
                            emitted_at=document["emitted_at"],
                            newest_event=seconds(document["watermark"]) + OUT_OF_ORDERNESS_S,
                            read_at=seconds(document["read_at"]),
                            emitted=seconds(document["emitted_at"]),
                            received=now,
                        )
                    )
    finally:
        await consumer.stop()


async def poll_api(url: str, every_s: float, profile: Profile, stop: asyncio.Event) -> None:
    """``GET /leaderboards/<board>`` about every ``every_s`` (uniformly 0 to twice that apart), so that polls fall
    at every phase of the engine's emissions, as a user's do."""
    rng = random.Random(11)
    while not stop.is_set():
        await asyncio.sleep(rng.uniform(0, 2 * every_s))
        sent = time.time()
        body = await asyncio.to_thread(get, url, f"/leaderboards/{BOARD}?limit=10")
        if body is not None:
            answer = json.loads(body)
            profile.polls.append(
                Poll(
                    sent=sent,
                    window_start=answer["window_start"],
                    emitted_at=answer["emitted_at"],
                    newest_event=seconds(answer["watermark"]) + OUT_OF_ORDERNESS_S,
                )
            )


async def measure(bootstrap: str, results_topic: str, url: str, args: argparse.Namespace) -> Profile:
    profile = Profile()
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(read_source(bootstrap, profile, stop)),
        asyncio.create_task(read_results(bootstrap, results_topic, profile, stop)),
    ]
    await asyncio.sleep(2.0)  # both readers at the end of their topics before the first poll
    tasks.append(asyncio.create_task(poll_api(url, args.poll_every, profile, stop)))
    started = time.monotonic()
    end = started + args.minutes * 60
    while (now := time.monotonic()) < end:
        await asyncio.sleep(min(30.0, end - now))
        minutes = (time.monotonic() - started) / 60
        progress(f"{minutes:4.1f} min: {len(profile.polls)} polls, {len(profile.emissions)} emissions of {BOARD}")
    stop.set()
    await asyncio.gather(*tasks)
    return profile


def run(args: argparse.Namespace) -> dict[str, Any]:
    results_topic = f"bench-freshness-results-{uuid.uuid4().hex[:8]}"
    with service_addresses(Settings.load()) as addresses, tempfile.TemporaryDirectory(prefix="kemu-fresh-") as tmp:
        bootstrap = bootstrap_of(addresses)
        progress(f"starting kemu up, game stream at {args.game_rate:,.0f} events/s")
        with kemu_up(args, addresses, Path(tmp), results_topic=results_topic) as url:
            wait_for_board(url, args.board_timeout)
            progress(f"first {BOARD} result; measuring for {args.minutes:g} min")
            load_start = load_averages()
            profile = asyncio.run(measure(bootstrap, results_topic, url, args))
    return {
        **header("freshness_profile", load_average_start=load_start, load_average_end=load_averages()),
        "minutes": args.minutes,
        "game_rate": args.game_rate,
        "board": BOARD,
        "source_timestamp_type": _TIMESTAMP_TYPES.get(profile.timestamp_type, profile.timestamp_type)
        if profile.timestamp_type is not None
        else None,
        "definition": "freshness = poll - (watermark + out-of-orderness) = stage 1 + stage 2 + stage 3, poll by poll",
        "stages": profile.stages(),
    }


def table(result: dict[str, Any]) -> str:
    lines = [f"{'stage':<54} {'mean':>7} {'p50':>7} {'p90':>7} {'p99':>7}  (ms)"]
    for name, row in result["stages"].items():
        if name.startswith("_") or not row.get("count"):
            continue
        cells = " ".join(f"{row[k]:>7.1f}" for k in ("mean_ms", "p50_ms", "p90_ms", "p99_ms"))
        lines.append(f"{name:<54} {cells}")
    return "\n".join(lines)


def plot(result: dict[str, Any], path: Path) -> None:
    """Stacked bars: the means of the three stages adding up to the mean freshness, beside the p50 and p99."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stages = result["stages"]
    parts = [
        ("events reach the engine", "1 events reach the engine (read_at - newest event)", "#4c72b0"),
        ("engine computes", "2 engine computes (emitted_at - read_at)", "#dd8452"),
        ("served after emission", "3 served after emission (poll - emitted_at)", "#55a868"),
    ]
    figure, (stack, detail) = plt.subplots(1, 2, figsize=(12, 5.5), gridspec_kw={"width_ratios": [1, 2]})
    bottom = 0.0
    for label, key, colour in parts:
        value = stages[key].get("mean_ms", 0.0)
        stack.bar(["mean freshness"], [value], bottom=bottom, color=colour, label=f"{label} ({value:.0f} ms)")
        bottom += value
    stack.axhline(stages["freshness"].get("p99_ms", 0.0), color="black", linestyle="--", label="freshness p99")
    stack.axhline(250, color="red", linestyle=":", label="target p99 250 ms")
    stack.set_ylabel("ms")
    stack.set_ylim(0, max(stages["freshness"].get("p99_ms", 0.0), 250.0) * 1.1)
    stack.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=1, frameon=False)
    stack.set_title("freshness = sum of three stages (means)", fontsize=10)
    names = [n for n, row in stages.items() if not n.startswith("_") and n != "freshness" and row.get("count")]
    y = range(len(names))
    for offset, (key, colour) in enumerate((("p50_ms", "#4c72b0"), ("p99_ms", "#c44e52"))):
        detail.barh(
            [i + offset * 0.4 for i in y], [stages[n][key] for n in names], height=0.4, color=colour, label=key[:3]
        )
    detail.set_yticks([i + 0.2 for i in y], names, fontsize=8)
    detail.invert_yaxis()
    detail.set_xlabel("ms")
    detail.legend(fontsize=8)
    detail.set_title(
        f"each stage, p50 and p99 ({result['game_rate']:,.0f} events/s, {result['minutes']:g} min)", fontsize=10
    )
    figure.suptitle(f"GET /leaderboards/{result['board']}: where the freshness goes ({result['date']})", fontsize=11)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3.0, help="length of the measured run")
    add_kemu_up_arguments(parser, board_timeout_s=180.0)
    parser.add_argument("--poll-every", type=float, default=0.2, help="mean seconds between leaderboard polls")
    parser.add_argument("--plot", type=Path, default=None, help="write the PNG here")
    args = parser.parse_args()
    result = run(args)
    print(table(result), file=sys.stderr)
    if args.plot is not None:
        plot(result, args.plot)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
