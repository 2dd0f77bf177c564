"""``emit_interval``: changed windows are emitted together at most once per interval, each with its current
result, and the final results do not change."""

from __future__ import annotations

import itertools
from pathlib import Path

import pyarrow as pa
import pytest

from analytics.decode import Decoder
from analytics.emissions import WindowResult
from analytics.exceptions import QueryError
from analytics.protocol import make_operator
from tests.unit.analytics.support import BASE_MS, Event, compile_text

QUERY = """-- source: game
-- emit: changes
{interval}-- lateness: 1s
SELECT window_start, window_end, player_id AS key, SUM(points) AS score, MAX(points) AS best
FROM HOP(events, DESCRIPTOR(event_time), INTERVAL '1 second', INTERVAL '4 seconds')
WHERE event_type = 'score'
GROUP BY window_start, window_end, player_id
"""
STEP_MS = 100  # processing time between two batches


def batches() -> list[pa.Table]:
    query = compile_text(QUERY.format(interval=""))
    decoder = Decoder(query.source, query.name)
    events = [
        Event(f"e{i}", 0, BASE_MS + i * 23 - (i % 7) * 40, f"p{i % 6}", i % 13, "score" if i % 5 else "level_up")
        for i in range(1200)
    ]
    tables = []
    for start in range(0, len(events), 30):
        chunk = events[start : start + 30]
        table, bad = decoder.decode(0, range(start, start + len(chunk)), [e.encode() for e in chunk])
        assert not bad
        tables.append(table)
    return tables


def emissions(interval: str, throttle: bool = True) -> list[list[WindowResult]]:
    """Per batch (and a last entry for the end of input), what the query emitted."""
    operator = make_operator(compile_text(QUERY.format(interval=interval)), throttle=throttle)
    out = [operator.process(batch, i * STEP_MS).results for i, batch in enumerate(batches())]
    return [*out, operator.finish().results]


def rows(result: WindowResult) -> list[str]:
    return sorted(map(str, result.rows))


def test_changes_are_emitted_at_most_once_per_interval_with_current_results() -> None:
    every = emissions("")
    throttled = emissions("-- emit_interval: 500ms\n")
    change_batches = [i for i, results in enumerate(throttled[:-1]) if any(not r.final for r in results)]
    assert len(change_batches) >= 5
    assert all((b - a) * STEP_MS >= 500 for a, b in itertools.pairwise(change_batches))
    for i in change_batches:
        # What a throttled emission says about a window is what the unthrottled query said about it last.
        latest: dict[tuple[int, int], WindowResult] = {}
        for results in every[: i + 1]:
            latest.update({(r.window_start_ms, r.window_end_ms): r for r in results})
        for result in throttled[i]:
            assert rows(result) == rows(latest[(result.window_start_ms, result.window_end_ms)])


def test_every_changed_window_is_emitted_and_the_final_results_do_not_change() -> None:
    every = emissions("")
    throttled = emissions("-- emit_interval: 1s\n")
    windows = {(r.window_start_ms, r.window_end_ms) for results in every for r in results}
    assert windows == {(r.window_start_ms, r.window_end_ms) for results in throttled for r in results}
    finals = [[(r.window_start_ms, rows(r)) for r in results if r.final] for results in every]
    assert finals == [[(r.window_start_ms, rows(r)) for r in results if r.final] for results in throttled]
    assert sum(len(results) for results in throttled) < sum(len(results) for results in every) / 3


def test_a_replay_ignores_the_interval() -> None:
    """Processing time stands still in a replay, so changes follow every batch there."""

    def summary(run: list[list[WindowResult]]) -> list[list[tuple[int, bool, list[str]]]]:
        return [[(r.window_start_ms, r.final, rows(r)) for r in results] for results in run]

    assert summary(emissions("-- emit_interval: 1s\n", throttle=False)) == summary(emissions("", throttle=False))


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("-- emit: final\n-- emit_interval: 1s\n", "emit_interval applies only to 'emit: changes'"),
        ("-- emit: changes\n-- emit_interval: soon\n", "emit_interval:"),
    ],
)
def test_a_wrong_emit_interval_is_refused_at_load_time(header: str, reason: str) -> None:
    text = QUERY.format(interval="").replace("-- emit: changes\n", header)
    with pytest.raises(QueryError) as caught:
        compile_text(text, name="wrong.sql")
    assert reason in caught.value.reason
    assert caught.value.path == Path("wrong.sql")
    assert caught.value.line == 3  # the emit_interval line
