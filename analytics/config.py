"""The analytics engine's configuration: a typed object the caller builds (``emulator`` reads it from settings)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from foundation.names import NAME_PREFIX_PATTERN, TOPIC_PATTERN


@dataclass(frozen=True)
class OutputTopics:
    """Where emissions go; the defaults are the names in the shared contract."""

    results: str = "analytics-results"
    alerts: str = "analytics-alerts"
    late: str = "analytics-late-events"
    errors: str = "analytics-errors"


def default_checkpoint_dir() -> Path:
    return Path.home() / ".cache" / "kemu" / "analytics" / "checkpoints"


class AnalyticsConfig(BaseModel):
    """How ``kemu analytics run`` reads, computes, checkpoints and writes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Directories of user query files (``*.sql`` and an optional ``sources.toml``), after the built-in ones.
    query_dirs: tuple[Path, ...] = ()
    #: Load the queries shipped with kemu (leaderboards, alerts, ETL, metrics).
    builtin_queries: bool = True
    #: One checkpoint file per query lives here: its open windows and source offsets, replaced atomically.
    checkpoint_dir: Path = Field(default_factory=default_checkpoint_dir)
    #: Seconds between checkpoints; a crash replays about this much input (outputs are idempotent by key). A query
    #: whose checkpoints take long (a large state) spaces them to 20 times their duration, so they cost at most 5%.
    checkpoint_interval_s: float = Field(default=1.0, gt=0)
    #: Where a query without a checkpoint starts reading its source.
    start_from: Literal["earliest", "latest"] = "earliest"
    #: After each checkpoint, a query commits its next offsets to the consumer group ``<prefix><query name>``, so
    #: Kafka's tooling (``kafka-consumer-groups``, lag monitors) sees its progress. The checkpoint stays the source
    #: of truth: the engine never reads these offsets back. Empty turns the commits off.
    progress_group_prefix: str = Field(default="kemu-analytics-", max_length=100, pattern=NAME_PREFIX_PATTERN)
    #: Upper bound of records per micro-batch. Each micro-batch has a fixed cost (a few DuckDB statements and, with
    #: ``emit: changes``, a top-N per touched window), so large batches when catching up amortise it; live, a batch
    #: holds only what arrived since the previous one.
    max_batch_records: int = Field(default=200_000, ge=1)
    #: Larger records are routed to the errors topic unread: an event is a few hundred bytes, and one huge record
    #: would make Arrow's bulk reader fail the whole batch (a JSON object may not straddle its blocks).
    max_record_bytes: int = Field(default=131_072, ge=1_024, le=1_048_576)
    #: How long a poll waits for records before the engine ticks (idle partitions, watermark advance).
    poll_timeout_ms: int = Field(default=100, ge=1)
    #: Least time between the starts of two micro-batches of a query, unless records were left to read after
    #: the last one (catching up).
    #: A batch costs a few DuckDB statements whatever its size; without this, a query that keeps up would run a
    #: tiny batch as soon as the previous one ends and keep a core busy at any event rate. It adds at most this
    #: much to a result's freshness.
    min_batch_interval_ms: int = Field(default=250, ge=0, le=60_000)
    results_topic: str = Field(default="analytics-results", pattern=TOPIC_PATTERN)
    alerts_topic: str = Field(default="analytics-alerts", pattern=TOPIC_PATTERN)
    late_events_topic: str = Field(default="analytics-late-events", pattern=TOPIC_PATTERN)
    errors_topic: str = Field(default="analytics-errors", pattern=TOPIC_PATTERN)

    def output_topics(self) -> OutputTopics:
        return OutputTopics(self.results_topic, self.alerts_topic, self.late_events_topic, self.errors_topic)
