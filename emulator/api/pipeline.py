"""What ``GET /pipeline`` answers: the pipeline as it runs, producers → streams → queries → result topics and
streams → delivery streams → objects, with each edge's rate and each query's watermark delay, late and error counts.

Assembled (pure) from what the API already has: the supervisor's view of each component (its state, ``stats()``
figures and ``info()`` words, reported by the child processes every second) and the streams inspector's topics and
rates. Rates of counters are taken over at least :data:`RATE_WINDOW_S` seconds, so a page polling often does not see
the one-second steps of the children's reports as spikes.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from datetime import datetime

from pydantic import BaseModel, Field

from emulator.api.models import StreamsAnswer, UtcTime

RATE_WINDOW_S = 3.0
HISTORY_S = 30.0


class ProducerNode(BaseModel):
    name: str
    stream: str
    state: str
    records_per_s: float = Field(ge=0)
    errors: int = Field(ge=0)


class StreamNode(BaseModel):
    name: str
    shards: int = Field(ge=0)
    records_per_s: float = Field(ge=0)
    end_offset: int = Field(ge=0, description="Records written so far (the sum of the shards' end offsets).")
    internal: bool = Field(default=False, description="A topic of kemu's own, not one of the user's streams.")


class QueryNode(BaseModel):
    name: str
    source: str
    output: str
    state: str
    events_per_s: float = Field(ge=0, description="Source records the query read per second.")
    events: int = Field(ge=0)
    lag: int = Field(ge=0, description="Source records not read yet: the engine's backlog for this query.")
    late: int = Field(ge=0, description="Events that arrived after their window closed (sent to the late topic).")
    errors: int = Field(ge=0, description="Records sent to the errors topic.")
    watermark_delay_s: float | None = Field(
        description="Wall clock minus the query's event-time watermark; null before its first event."
    )


class DeliveryNode(BaseModel):
    name: str
    source: str
    bucket: str
    state: str
    records_per_s: float = Field(ge=0, description="Records read from the source per second.")
    buffered: int = Field(ge=0, description="Records read or waiting in the source, not yet in an object.")
    objects: int = Field(ge=0)
    bytes: int = Field(ge=0)
    errors: int = Field(ge=0, description="Records written under the error prefix.")
    objects_per_min: float = Field(ge=0)
    last_key: str | None


class Edge(BaseModel):
    source: str = Field(description="Node id: producer:, stream:, query:, topic:, delivery: or bucket: and a name.")
    target: str
    records_per_s: float | None = Field(ge=0, description="Records per second along the edge, when known.")


class PipelineAnswer(BaseModel):
    as_of: UtcTime
    producers: list[ProducerNode]
    streams: list[StreamNode] = Field(description="The user's streams; kemu's own topics are in internal_topics.")
    queries: list[QueryNode]
    outputs: list[StreamNode] = Field(description="Topics the queries write (results, alerts, ETL outputs).")
    delivery: list[DeliveryNode]
    internal_topics: list[StreamNode]
    engine_lag: int = Field(ge=0, description="Records the analytics engine has not read yet (its most behind query).")
    sinks_buffered: int = Field(ge=0, description="Records the delivery streams have not written to S3 yet.")
    edges: list[Edge]


class RateTracker:
    """Per-counter rates from successive snapshots of monotonically growing counters (restarts reset them: a
    counter that went down counts from zero)."""

    def __init__(self, window_s: float = RATE_WINDOW_S) -> None:
        self._window_s = window_s
        self._history: deque[tuple[float, dict[str, float]]] = deque()

    def rates(self, counters: Mapping[str, float], now: float | None = None) -> dict[str, float]:
        now = time.monotonic() if now is None else now
        base = None
        for at, snapshot in self._history:
            if now - at >= self._window_s:
                base = (at, snapshot)  # the newest snapshot at least a window old
        if base is None and self._history:
            base = self._history[0]
        self._history.append((now, dict(counters)))
        while self._history and now - self._history[0][0] > HISTORY_S:
            self._history.popleft()
        if base is None or now - base[0] <= 0:
            return {}
        then, before = base
        elapsed = now - then
        result = {}
        for key, value in counters.items():
            previous = before.get(key, 0.0)
            grown = value - previous if value >= previous else value
            result[key] = round(max(grown, 0.0) / elapsed, 3)
        return result


def assemble(
    states: Mapping[str, str],
    stats: Mapping[str, Mapping[str, float]],
    info: Mapping[str, Mapping[str, str]],
    streams: StreamsAnswer,
    internal: frozenset[str],
    tracker: RateTracker,
    now: datetime,
) -> PipelineAnswer:
    """The pipeline from the components' reports and the inspector's last poll (see the module's docstring)."""
    counters = {f"{name}:{key}": value for name, figures in stats.items() for key, value in figures.items()}
    rates = tracker.rates(counters)
    by_topic = {s.name: s for s in streams.streams}

    def stream_node(name: str) -> StreamNode:
        found = by_topic.get(name)
        mine = name in internal
        if found is None:
            return StreamNode(name=name, shards=0, records_per_s=0.0, end_offset=0, internal=mine)
        end = sum(shard.end_offset for shard in found.shards)
        return StreamNode(
            name=name, shards=len(found.shards), records_per_s=found.records_per_s, end_offset=end, internal=mine
        )

    producers = [
        ProducerNode(
            name=name,
            stream=info[name].get("stream", ""),
            state=states.get(name, "unknown"),
            records_per_s=rates.get(f"{name}:events_out", 0.0),
            errors=int(stats.get(name, {}).get("errors", 0)),
        )
        for name in sorted(info)
        if name.startswith("producer-") and "stream" in info[name]
    ]
    queries = _queries(states, stats, info, rates, now)
    delivery = _delivery(states, stats, info, rates)
    outputs = sorted({q.output for q in queries})
    user = [s.name for s in streams.streams if s.name not in internal and s.name not in outputs]
    wanted = {p.stream for p in producers} | {q.source for q in queries} | {d.source for d in delivery}
    edges = [
        Edge(source=f"producer:{p.name}", target=f"stream:{p.stream}", records_per_s=p.records_per_s) for p in producers
    ]
    edges += [
        Edge(source=f"stream:{q.source}", target=f"query:{q.name}", records_per_s=q.events_per_s) for q in queries
    ]
    edges += [Edge(source=f"query:{q.name}", target=f"topic:{q.output}", records_per_s=None) for q in queries]
    edges += [
        Edge(source=f"stream:{d.source}", target=f"delivery:{d.name}", records_per_s=d.records_per_s) for d in delivery
    ]
    edges += [Edge(source=f"delivery:{d.name}", target=f"bucket:{d.bucket}", records_per_s=None) for d in delivery]
    return PipelineAnswer(
        as_of=now,
        producers=producers,
        streams=[stream_node(name) for name in sorted(set(user) | wanted - set(outputs))],
        queries=queries,
        outputs=[stream_node(name) for name in outputs],
        delivery=delivery,
        internal_topics=[stream_node(s.name) for s in streams.streams if s.name in internal and s.name not in outputs],
        engine_lag=max((q.lag for q in queries), default=0),
        sinks_buffered=sum(d.buffered for d in delivery),
        edges=edges,
    )


def _queries(
    states: Mapping[str, str],
    stats: Mapping[str, Mapping[str, float]],
    info: Mapping[str, Mapping[str, str]],
    rates: Mapping[str, float],
    now: datetime,
) -> list[QueryNode]:
    found = []
    for component, words in sorted(info.items()):
        figures = stats.get(component, {})
        names = sorted({key.split(".")[1] for key in words if key.startswith("q.") and key.endswith(".source")})
        for name in names:
            prefix = f"q.{name}."
            watermark = figures.get(prefix + "watermark_ms")
            found.append(
                QueryNode(
                    name=name,
                    source=words[prefix + "source"],
                    output=words.get(prefix + "output", ""),
                    state=states.get(component, "unknown"),
                    events_per_s=rates.get(f"{component}:{prefix}events", 0.0),
                    events=int(figures.get(prefix + "events", 0)),
                    lag=int(figures.get(prefix + "lag", 0)),
                    late=int(figures.get(prefix + "late", 0)),
                    errors=int(figures.get(prefix + "errors", 0)),
                    watermark_delay_s=(
                        None if watermark is None else round(max(now.timestamp() - watermark / 1000, 0.0), 3)
                    ),
                )
            )
    return found


def _delivery(
    states: Mapping[str, str],
    stats: Mapping[str, Mapping[str, float]],
    info: Mapping[str, Mapping[str, str]],
    rates: Mapping[str, float],
) -> list[DeliveryNode]:
    found = []
    for component, words in sorted(info.items()):
        if not component.startswith("sink-") or "source" not in words:
            continue
        figures = stats.get(component, {})
        found.append(
            DeliveryNode(
                name=component.removeprefix("sink-"),
                source=words["source"],
                bucket=words.get("bucket", ""),
                state=states.get(component, "unknown"),
                records_per_s=rates.get(f"{component}:events_in", 0.0),
                buffered=int(figures.get("lag", 0)),
                objects=int(figures.get("sink_objects", 0)),
                bytes=int(figures.get("sink_bytes", 0)),
                errors=int(figures.get("errors", 0)),
                objects_per_min=round(rates.get(f"{component}:sink_objects", 0.0) * 60, 3),
                last_key=words.get("last_key"),
            )
        )
    return found
