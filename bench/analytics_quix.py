"""The peer: Quix Streams computing the same 1-minute tumbling sum of points per player and a top-10 per window.

Run by bench/analytics_leaderboard.py in its own process on the same pre-loaded topic; prints one JSON line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import json
import tempfile
import time
import uuid
from typing import Any

from quixstreams import Application


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--count", type=int, required=True)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="quix-state-") as state_dir:
        app = Application(
            broker_address=args.bootstrap,
            consumer_group=f"bench-quix-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            state_dir=state_dir,
            loglevel="WARNING",
            use_changelog_topics=False,
        )

        def event_time(value: Any, headers: Any, timestamp: float, timestamp_type: Any) -> int:
            # Same event-time semantics as kemu: the event's own ISO time, not the Kafka timestamp.
            moment = dt.datetime.strptime(value["event_time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
            return int(moment.timestamp() * 1000)

        topic = app.topic(args.topic, value_deserializer="json", timestamp_extractor=event_time)
        seen = {"n": 0, "first": 0.0, "last": 0.0}
        boards: dict[int, dict[str, int]] = {}

        def count(value: Any) -> None:
            if seen["n"] == 0:
                seen["first"] = time.monotonic()
            seen["n"] += 1
            if seen["n"] >= args.count:
                seen["last"] = time.monotonic()
                app.stop()

        def board(value: dict[str, Any], key: Any, timestamp: int, headers: Any) -> None:
            # Top 10 per window across keys: keep each window's latest sums, rank on demand.
            boards.setdefault(value["start"], {})[str(key)] = value["value"]

        sdf = app.dataframe(topic)
        sdf = sdf.update(count)
        sdf = sdf.filter(lambda v: v["event_type"] == "score")
        sdf = sdf.apply(lambda v: v["points"])
        sdf = sdf.tumbling_window(duration_ms=60_000).sum().current()
        sdf = sdf.update(board, metadata=True)
        started = time.monotonic()
        app.run(sdf)
        # From the first message to the last: Quix's start-up (group join, state) is not counted against it.
        elapsed = (seen["last"] or time.monotonic()) - (seen["first"] or started)
        tops = {start: heapq.nlargest(10, sums.items(), key=lambda kv: kv[1]) for start, sums in boards.items()}
        print(
            json.dumps(
                {
                    "events": seen["n"],
                    "seconds": round(elapsed, 3),
                    "events_per_s": round(seen["n"] / elapsed) if elapsed > 0 else None,
                    "windows": len(tops),
                }
            )
        )


if __name__ == "__main__":
    main()
