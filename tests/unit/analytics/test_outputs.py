"""Output records follow the shared contract; the latest-results store keeps the newest per window."""

from __future__ import annotations

import asyncio

import orjson

from analytics.emissions import WindowResult, alert_records, result_record
from analytics.outputs import LatestResults
from tests.unit.analytics.support import BASE_MS, iso


def result(start: int, final: bool, score: int = 1) -> WindowResult:
    return WindowResult("lb", BASE_MS + start, BASE_MS + start + 60_000, final, BASE_MS, [{"key": "p", "score": score}])


def test_result_record_is_keyed_by_query_and_window_start() -> None:
    key, value = result_record(result(0, True), BASE_MS + 5)
    assert key == f"lb|{iso(BASE_MS)}".encode()
    document = orjson.loads(value)
    assert set(document) == {"query", "window_start", "window_end", "final", "watermark", "emitted_at", "rows"}
    assert document["window_end"] == iso(BASE_MS + 60_000)
    assert document["emitted_at"] == iso(BASE_MS + 5)


def test_alert_ids_repeat_for_the_same_window_and_key() -> None:
    first = alert_records(result(0, True), BASE_MS)
    again = alert_records(result(0, True, score=1), BASE_MS + 999)
    other = alert_records(result(60_000, True), BASE_MS)
    assert first[0][0] == again[0][0]
    assert first[0][0] != other[0][0]
    assert orjson.loads(first[0][1])["evidence"] == {"key": "p", "score": 1}


async def test_latest_results_replace_and_notify() -> None:
    latest = LatestResults(keep_windows=2)
    updates = latest.subscribe()
    waiting = asyncio.ensure_future(anext(updates))
    await asyncio.sleep(0)
    latest.update([result(0, False, 1), result(0, True, 5), result(60_000, False), result(120_000, False)])
    assert (await waiting).rows == [{"key": "p", "score": 1}]
    assert [r.window_start_ms - BASE_MS for r in latest.latest("lb")] == [120_000, 60_000]
    assert latest.queries() == ["lb"]
    await updates.aclose()
