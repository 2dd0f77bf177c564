"""Typed shapes of what the API reads (the analytics output contract, whose one definition is the JSON Schemas of
:mod:`analytics.contract`, which a test holds these models to) and what it answers (the OpenAPI schema).

Times are timezone-aware UTC and are written back as ISO-8601 with milliseconds and ``Z``, as the contract writes
them, so a client can compare what it got with what the engine emitted character for character.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

from emulator.names import STREAM_NAME_PATTERN

#: Names of boards (= analytics query names) the API accepts in a path; anything else is refused before use.
NAME_PATTERN = STREAM_NAME_PATTERN
#: Leaderboard entries a GET answers by default, and at most (the FastAPI route and the fast path alike).
DEFAULT_ENTRIES = 10
MAX_ENTRIES = 1000


def to_utc(value: datetime) -> datetime:
    """Naive times are read as UTC (the contract only writes ``Z`` times); aware ones are converted."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso_ms(value: datetime) -> str:
    """``2026-11-27T08:00:00.123Z``: the contract's own spelling of an instant."""
    return to_utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")


#: RFC 3339 date-time (what OpenAPI's ``format: date-time`` means): a date, a time and an offset, nothing laxer.
RFC3339_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
_RFC3339 = re.compile(f"^{RFC3339_PATTERN}$")


_FIRST_INSTANT = datetime.min.replace(tzinfo=UTC)
_LAST_INSTANT = datetime.max.replace(tzinfo=UTC)


def parse_instant(value: str) -> datetime:
    """An RFC 3339 instant in UTC; ``ValueError`` for anything else (Unix numbers, bare dates, no offset)."""
    if not _RFC3339.match(value):
        raise ValueError(f"not an RFC 3339 date-time: {value!r}")
    text = value[:17] + "59" + value[19:] if value[17:19] == "60" else value  # a leap second: Python has none
    text = text[:-1] + "+00:00" if text[-1] in "Zz" else text
    if text.startswith("0000-"):  # RFC 3339 has a year 0; Python's calendar starts at year 1
        return _FIRST_INSTANT
    parsed = datetime.fromisoformat(text[:10] + "T" + text[11:])
    try:
        return to_utc(parsed)
    except OverflowError:
        # A valid instant outside Python's calendar once in UTC (0001-01-01T00:00:00+23:59 is in year 0,
        # 9999-12-31T23:59:59-23:59 in year 10000): the calendar's first or last instant compares the same way with
        # every window and alert, so the answer is what the instant itself would give.
        return _FIRST_INSTANT if parsed.year == 1 else _LAST_INSTANT


UtcTime = Annotated[
    datetime,
    AfterValidator(to_utc),
    PlainSerializer(iso_ms, return_type=str, when_used="json"),
]


# --- what the analytics engine writes ------------------------------------------------------------------------


class ResultRecord(BaseModel):
    """One record of ``analytics-results``: the complete current result of one (query, window)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    query: Annotated[str, Field(pattern=NAME_PATTERN)]
    window_start: UtcTime
    window_end: UtcTime
    final: bool
    watermark: UtcTime
    emitted_at: UtcTime
    rows: list[dict[str, Any]]


class AlertFields(BaseModel):
    """The members of an alert, the same on ``analytics-alerts`` and in the API's answers."""

    alert_id: str
    query: str
    key: str | None
    window_start: UtcTime
    window_end: UtcTime
    emitted_at: UtcTime
    severity: str
    message: str
    evidence: dict[str, Any]


class AlertRecord(AlertFields):
    """One record of ``analytics-alerts``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    alert_id: Annotated[str, Field(min_length=1, max_length=512)]
    evidence: dict[str, Any] = Field(default_factory=dict)


# --- what the API answers ------------------------------------------------------------------------------------


class LeaderboardEntry(BaseModel):
    rank: int = Field(ge=1, description="1-based rank within the window.")
    key: str | None = Field(description="What is ranked (a player id for the game leaderboards); null for a NULL key.")
    score: float


class LeaderboardWindow(BaseModel):
    """One window of one board, as of the engine's watermark when it emitted it."""

    name: str
    window_start: UtcTime
    window_end: UtcTime
    final: bool = Field(description="True once the watermark passed the window's end plus the allowed lateness.")
    watermark: UtcTime = Field(description='The event time this answer is "as of".')
    emitted_at: UtcTime
    total_entries: int = Field(ge=0, description="Rows in the window before `limit` was applied.")
    entries: list[LeaderboardEntry]


class LeaderboardSummary(BaseModel):
    name: str
    windows: int = Field(ge=1, description="Windows of this board kept in memory.")
    current_window_start: UtcTime
    current_window_end: UtcTime
    watermark: UtcTime
    updated_at: UtcTime


class LeaderboardList(BaseModel):
    leaderboards: list[LeaderboardSummary]


class Alert(AlertFields):
    pass


class AlertList(BaseModel):
    alerts: list[Alert] = Field(description="Newest first.")


class ShardInfo(BaseModel):
    shard_id: str
    partition: int = Field(ge=0)
    starting_hash_key: str
    ending_hash_key: str
    end_offset: int = Field(ge=0, description="Offset the next record written to this shard gets.")
    records_per_s: float = Field(ge=0)


class ConsumerLag(BaseModel):
    group_id: str
    lag: int = Field(ge=0, description="Records written to the stream that the group has not committed yet.")


class StreamInfo(BaseModel):
    name: str
    shards: list[ShardInfo]
    records_per_s: float = Field(ge=0)
    consumers: list[ConsumerLag]
    internal: bool = Field(
        default=False, description="A topic of kemu's own (metadata, analytics outputs), not one of the user's streams."
    )


class StreamsAnswer(BaseModel):
    kafka_reachable: bool
    as_of: UtcTime | None = Field(description="When the cluster was last polled; null before the first poll.")
    streams: list[StreamInfo]


class Health(BaseModel):
    status: str


class CheckResult(BaseModel):
    ok: bool
    detail: str


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, CheckResult]


class ErrorMessage(BaseModel):
    detail: str
