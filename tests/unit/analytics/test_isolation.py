"""A valid event the query's own SQL fails on is isolated and routed; the rest of its batch is processed once."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
import pytest

from analytics import make_operator
from analytics.decode import Decoder
from analytics.exceptions import QueryFailed
from analytics.isolation import MAX_ISOLATED, FailureStreak, process_batch
from tests.unit.analytics.support import BASE_MS, Event, compile_text

SMALL_COPY = """-- source: game
-- output: topic
-- output_topic: small
SELECT event_id, CAST(points AS TINYINT) AS small FROM events
"""

SMALL_SUM = """-- source: game
-- emit: final
SELECT window_start, window_end, player_id AS key, SUM(CAST(points AS TINYINT)) AS small
FROM TUMBLE(events, DESCRIPTOR(event_time), INTERVAL '1 minute')
GROUP BY window_start, window_end, player_id
"""

SUM_TOO_BIG = """-- source: game
-- emit: final
SELECT window_start, window_end, CAST(SUM(points) AS TINYINT) AS small
FROM TUMBLE(events, DESCRIPTOR(event_time), INTERVAL '1 minute')
GROUP BY window_start, window_end
"""

FAR_AHEAD = """-- source: game
-- output: topic
-- output_topic: ahead
SELECT event_id, event_time + INTERVAL 7900 YEAR AS ahead FROM events
"""


def values(points: Sequence[int], t_ms: Sequence[int] | None = None) -> list[bytes | None]:
    times = t_ms or [BASE_MS + i * 100 for i in range(len(points))]
    return [Event(f"e{i}", 0, t, f"p{i % 3}", p).encode() for i, (p, t) in enumerate(zip(points, times, strict=True))]


def run(text: str, records: list[bytes | None]) -> tuple[list[dict[str, object]], list[tuple[int, str]]]:
    query = compile_text(text)
    operator = make_operator(query, throttle=False)
    outcome = process_batch(Decoder.for_query(query), operator, query.name, [(0, range(len(records)), records)], 0)
    outcome.extend(operator.finish())
    rows = outcome.rows + [row for result in outcome.results for row in result.rows]
    return rows, [(bad.offset, bad.reason) for bad in outcome.errors]


def test_a_row_the_etl_query_fails_on_is_routed_with_the_query_message() -> None:
    rows, errors = run(SMALL_COPY, values([1, 2, 300, 4, 5, 1000, 7]))
    assert [row["event_id"] for row in rows] == ["e0", "e1", "e3", "e4", "e6"]
    assert [offset for offset, _ in errors] == [2, 5]
    assert all(reason.startswith("query failed on this record: Conversion Error") for _, reason in errors)


def test_a_row_a_window_query_fails_on_is_routed_before_it_touches_the_state() -> None:
    rows, errors = run(SMALL_SUM, values([1, 2, 300, 4, 5, 6]))
    assert [offset for offset, _ in errors] == [2]
    assert sorted((row["key"], row["small"]) for row in rows) == [("p0", 5), ("p1", 7), ("p2", 6)]


def test_a_time_beyond_9999_made_by_the_query_is_routed() -> None:
    times = [BASE_MS, BASE_MS + 1, 16_725_225_600_000, BASE_MS + 2]  # the third is in year 2500
    rows, errors = run(FAR_AHEAD, values([1, 2, 3, 4], times))
    assert [row["event_id"] for row in rows] == ["e0", "e1", "e3"]
    assert [offset for offset, _ in errors] == [2]
    assert "out of range" in errors[0][1]


def test_a_failure_no_single_record_explains_stops_the_query_and_says_so() -> None:
    # The last event closes the first window, whose sum (300) no TINYINT holds, though each of its points does.
    times = [BASE_MS, BASE_MS + 1, BASE_MS + 2, BASE_MS + 180_000]
    with pytest.raises(QueryFailed, match="on none of them alone"):
        run(SUM_TOO_BIG, values([100, 100, 100, 1], times))


def test_a_query_that_fails_on_most_records_is_the_query_fault() -> None:
    with pytest.raises(QueryFailed, match="fails on most records"):
        run(SMALL_COPY, values([1000] * 500))


def test_isolation_routes_the_raw_record() -> None:
    records = values([1, 300])
    _, errors = run(SMALL_COPY, records)
    query = compile_text(SMALL_COPY)
    outcome = process_batch(Decoder.for_query(query), make_operator(query), query.name, [(0, [0, 1], records)], 0)
    assert [orjson.loads(bad.raw)["points"] for bad in outcome.errors] == [300]
    assert errors[0][0] == 1


def test_a_query_that_fails_on_every_record_of_small_batches_is_the_query_fault() -> None:
    """Live batches may hold one record each: failing on every one of them is not a run of poison records."""
    query = compile_text(SMALL_COPY)
    operator, decoder, streak = make_operator(query), Decoder.for_query(query), FailureStreak()
    records = values([1000] * (MAX_ISOLATED + 1))
    for offset, record in enumerate(records[:-1]):
        outcome = process_batch(decoder, operator, query.name, [(0, [offset], [record])], 0, streak=streak)
        assert len(outcome.errors) == 1  # routed, as a poison record would be, until the run is too long
    with pytest.raises(QueryFailed, match="failed on the last 101 records"):
        process_batch(decoder, operator, query.name, [(0, [MAX_ISOLATED], [records[-1]])], 0, streak=streak)


def test_poison_records_between_good_ones_never_add_up() -> None:
    query = compile_text(SMALL_COPY)
    operator, decoder, streak = make_operator(query), Decoder.for_query(query), FailureStreak()
    records = values([1000, 1] * (MAX_ISOLATED + 5))
    routed = 0
    for offset, record in enumerate(records):
        outcome = process_batch(decoder, operator, query.name, [(0, [offset], [record])], 0, streak=streak)
        routed += len(outcome.errors)
    assert routed == MAX_ISOLATED + 5
