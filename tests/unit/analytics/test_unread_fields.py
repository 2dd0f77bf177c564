"""A query decodes only the source columns it reads, and a record's verdict follows from that (docs/analytics.md,
"Bad records"):

- a field the query reads is checked by type exactly as before: the same records are bad, with the same reasons;
- a declared field the query does not read is held to what an undeclared field is: whatever it holds, the record is
  bad only when the record as a whole is (not UTF-8, not one JSON object, oversized).
"""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest

from analytics import compile_query, load_queries
from analytics.decode import Decoder
from analytics.plan import CompiledQuery
from tests.support.poison import Poison, poisons
from tests.unit.analytics.support import BASE_MS, iso

#: Reads event_type, event_time, player_id and points of game-events; match_id (text) and level (integer) are
#: declared by the source and not read.
BOARD = "leaderboard_1m"
#: Reads every declared column of game-events.
EVERY_COLUMN = """-- source: game-events
-- output: topic
-- output_topic: game-copy
SELECT * FROM events
"""


def event(i: int) -> dict[str, object]:
    return {"event_id": f"g{i}", "event_type": "score", "event_time": iso(BASE_MS + i * 700), "player_id": f"p{i % 5}",
            "match_id": "m1", "level": 3, "points": i % 50}  # fmt: skip


@pytest.fixture(scope="module")
def queries() -> dict[str, CompiledQuery]:
    catalog = load_queries()
    sources = {q.source.name: q.source for q in catalog.values()}
    catalog["every_column"] = compile_query(Path("every_column.sql"), EVERY_COLUMN, sources)
    return catalog


def verdicts(decoder: Decoder, values: list[bytes]) -> list[str | None]:
    """Per record, the reason it is routed with (None when delivered), from one bulk decode of them all."""
    table, bad = decoder.decode(0, range(len(values)), values)
    reasons = {record.offset: record.reason for record in bad}
    assert table.num_rows + len(bad) == len(values)
    return [reasons.get(i) for i in range(len(values))]


def unplaced(reason: str | None) -> str | None:
    return None if reason is None else re.sub(r"\d[\d,]*", "N", reason)


def kinds(text: str, integer: str) -> list[Poison]:
    # The event time is read by every query: its poisons are in test_poison_records.
    return [k for k in poisons(event(9), text, integer, "event_time") if "event time" not in k.name]


def test_the_board_decodes_only_the_columns_it_reads(queries: dict[str, CompiledQuery]) -> None:
    assert queries[BOARD].decodes == ("event_type", "event_time", "player_id", "points")
    assert Decoder.for_query(queries[BOARD]).columns == ["event_type", "event_time", "player_id", "points"]
    every = queries["every_column"]
    assert every.decodes == tuple(every.source.column_names())


def test_columns_named_only_in_a_join_or_behind_a_table_alias_are_decoded(queries: dict[str, CompiledQuery]) -> None:
    sources = {q.source.name: q.source for q in queries.values()}
    text = """-- source: game-events
SELECT e.event_id, e.points FROM events AS e
WHERE e.event_id IN (SELECT a.event_id FROM events AS a JOIN events AS b USING (match_id))
"""
    joined = compile_query(Path("joined.sql"), text, sources)
    assert joined.decodes == ("event_id", "event_time", "match_id", "points")


@pytest.mark.parametrize(
    "select",
    [
        "SELECT * FROM events",
        "SELECT COLUMNS('.*_id') FROM events",
        "SELECT e.event_id, to_json(e) AS whole FROM events AS e",
        "SELECT event_id FROM events WHERE event_id IN (SELECT event_id FROM events NATURAL JOIN events AS b)",
    ],
)
def test_a_query_reading_whole_rows_decodes_every_column(queries: dict[str, CompiledQuery], select: str) -> None:
    sources = {q.source.name: q.source for q in queries.values()}
    query = compile_query(Path("rows.sql"), f"-- source: game-events\n{select}\n", sources)
    assert query.decodes == tuple(query.source.column_names())


def test_a_field_the_query_reads_is_checked_by_type_as_before(queries: dict[str, CompiledQuery]) -> None:
    """Poisons in player_id and points: the board routes each with the reason the all-columns decoder gives."""
    board = queries[BOARD]
    cases = kinds("player_id", "points")
    values = [orjson.dumps(event(i)) for i in range(20)] + [k.value for k in cases]
    everything = Decoder(board.source, board.name, window_ms=60_000)
    assert verdicts(Decoder.for_query(board), values) == verdicts(everything, values)
    routed = verdicts(Decoder.for_query(board), values)[20:]
    for case, reason in zip(cases, routed, strict=True):
        assert reason is not None, case.name
        assert case.reason in reason, (case.name, reason)


def test_a_declared_field_the_query_does_not_read_is_held_like_an_undeclared_one(
    queries: dict[str, CompiledQuery],
) -> None:
    """The same poisons in match_id and level (declared, not read by the board) and in fields the source does not
    declare: the same verdict for each, in one batch and one by one; a query reading every column still routes the
    declared ones by type."""
    board = Decoder.for_query(queries[BOARD])
    declared = kinds("match_id", "level")
    undeclared = kinds("not_declared_text", "not_declared_number")
    assert [k.name for k in declared] == [k.name for k in undeclared]
    good = [orjson.dumps(event(i)) for i in range(20)]
    in_declared = verdicts(board, good + [k.value for k in declared])
    in_undeclared = verdicts(board, good + [k.value for k in undeclared])
    # The fields have other names and places in the record: a reason's positions and sizes may differ.
    assert [unplaced(r) for r in in_declared] == [unplaced(r) for r in in_undeclared]
    assert in_declared[20:] == [verdicts(board, [k.value])[0] for k in declared]
    delivered = [k.name for k, reason in zip(declared, in_declared[20:], strict=True) if reason is None]
    assert "number in a text field" in delivered
    assert "text in an integer field" in delivered
    assert "invalid UTF-8 (0xff 0xfe)" not in delivered  # the record as a whole is still checked

    every = Decoder.for_query(queries["every_column"])
    routed = verdicts(every, [k.value for k in declared])
    for name in ("number in a text field", "text in an integer field", "fraction in an integer field"):
        assert routed[[k.name for k in declared].index(name)] is not None, name
