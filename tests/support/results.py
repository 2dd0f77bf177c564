"""Records in the analytics output contract, for tests that feed the API (directly or through Kafka): each is checked
against the contract's JSON Schema (:mod:`analytics.contract`) before a test uses it, so the fakes cannot drift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema

from analytics.contract import ALERTS, RESULTS, schema


def conforming(document: dict[str, Any], name: str) -> dict[str, Any]:
    """``document``, after checking it against the contract's schema ``name``."""
    jsonschema.validate(document, schema(name))
    return document


T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def result(
    query: str,
    start: datetime,
    scores: dict[str, float],
    *,
    minutes: int = 1,
    final: bool = False,
    emitted_at: datetime | None = None,
    watermark: datetime | None = None,
) -> dict[str, Any]:
    """A leaderboard result: ``scores`` ranked best first, as a Top-N query with ``ROW_NUMBER()`` emits it."""
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    end = start + timedelta(minutes=minutes)
    document = {
        "query": query,
        "window_start": iso(start),
        "window_end": iso(end),
        "final": final,
        "watermark": iso(watermark or start + timedelta(seconds=30)),
        "emitted_at": iso(emitted_at or start + timedelta(seconds=31)),
        "rows": [{"rank": i + 1, "key": key, "score": score} for i, (key, score) in enumerate(ranked)],
    }
    return conforming(document, RESULTS)


def alert(query: str, key: str, start: datetime, *, emitted_at: datetime | None = None) -> dict[str, Any]:
    end = start + timedelta(minutes=1)
    document = {
        "alert_id": f"{query}|{iso(start)}|{key}",
        "query": query,
        "key": key,
        "window_start": iso(start),
        "window_end": iso(end),
        "emitted_at": iso(emitted_at or end + timedelta(seconds=5)),
        "severity": "warning",
        "message": f"{key} is over the threshold",
        "evidence": {"temperature_avg": 71.5},
    }
    return conforming(document, ALERTS)
