"""A query that cannot work fails at load time, naming the file, the line and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.exceptions import QueryError
from analytics.query_files import BUILTIN_QUERIES, load_queries
from tests.unit.analytics.support import compile_text

HEADER = "-- source: game\n-- emit: final\n"


@pytest.mark.parametrize(
    ("body", "line", "reason"),
    [
        ("SELECT window_start, SUM(points\nFROM TUMBLE(events, DESCRIPTOR(event_time), INTERVAL '1 minute')", 4,
         "syntax error"),
        ("SELECT window_start, window_end,\n  SUM(pointz) AS s\nFROM TUMBLE(events, DESCRIPTOR(event_time), "
         "INTERVAL '1 minute')\nGROUP BY window_start, window_end", 4, "pointz"),
        ("SELECT window_start, window_end, MEDIAN(points) AS m\nFROM TUMBLE(events, DESCRIPTOR(event_time), "
         "INTERVAL '1 minute')\nGROUP BY window_start, window_end", 3, "cannot be computed incrementally"),
        ("SELECT player_id, SUM(points)\nFROM TUMBLE(events, DESCRIPTOR(event_time), INTERVAL '1 minute')\n"
         "GROUP BY player_id", 3, "GROUP BY window_start, window_end"),
        ("SELECT SUM(points) FROM events", 3, "aggregates need a window"),
        ("SELECT * FROM SESSION(events, DESCRIPTOR(points), INTERVAL '1 minute')", 3, "source's event_time"),
        ("SELECT * FROM other_table", 3, "FROM must be"),
        ("SELECT window_start, window_end, COUNT(*) AS n\nFROM TUMBLE(events, DESCRIPTOR(event_time), "
         "INTERVAL 'soon')\nGROUP BY window_start, window_end", 3, "window size"),
    ],
)  # fmt: skip
def test_bad_queries_fail_at_load_time_with_file_line_and_reason(body: str, line: int, reason: str) -> None:
    with pytest.raises(QueryError) as caught:
        compile_text(HEADER + body, name="queries/bad.sql")
    error = caught.value
    assert str(error.path) == "queries/bad.sql"
    assert error.line == line, str(error)
    assert reason in error.reason
    assert str(error).startswith(f"queries/bad.sql:{line}: ")


def test_header_errors_name_their_line() -> None:
    with pytest.raises(QueryError) as caught:
        compile_text("-- source: game\n-- emit: sometimes\nSELECT 1 FROM events")
    assert caught.value.line == 2
    assert "emit must be" in caught.value.reason
    with pytest.raises(QueryError) as unknown:
        compile_text("-- source: nowhere\nSELECT 1 FROM events")
    assert unknown.value.line == 1
    assert "unknown source 'nowhere'" in unknown.value.reason
    with pytest.raises(QueryError) as lateness:
        compile_text("-- source: game\n-- lateness: a while\nSELECT 1 FROM events")
    assert lateness.value.line == 2


def test_flinks_session_partition_by_is_refused_with_what_to_write_instead() -> None:
    text = HEADER + (
        "SELECT window_start, window_end, player_id, COUNT(*) AS n\n"
        "FROM TABLE(SESSION(TABLE events PARTITION BY player_id, DESCRIPTOR(event_time), INTERVAL '1' MINUTE))\n"
        "GROUP BY window_start, window_end, player_id"
    )
    with pytest.raises(QueryError) as caught:
        compile_text(text)
    assert caught.value.line == 4
    assert "GROUP BY keys" in caught.value.reason


def test_a_user_query_named_like_a_builtin_is_an_error_not_a_silent_replacement(tmp_path: Path) -> None:
    (tmp_path / "leaderboard_1m.sql").write_text(
        "-- source: game-events\nSELECT window_start, window_end, COUNT(*) AS n\n"
        "FROM TUMBLE(events, DESCRIPTOR(event_time), INTERVAL '1 minute')\nGROUP BY window_start, window_end\n"
    )
    with pytest.raises(QueryError) as caught:
        load_queries([tmp_path])
    assert "already used by the built-in query" in caught.value.reason
    assert str(caught.value.path) == str(tmp_path / "leaderboard_1m.sql")
    # Without the built-ins (and with their sources copied), the same file is the query of that name.
    (tmp_path / "sources.toml").write_bytes((BUILTIN_QUERIES / "sources.toml").read_bytes())
    assert load_queries([tmp_path], builtins=False)["leaderboard_1m"].path == tmp_path / "leaderboard_1m.sql"


def test_two_user_directories_cannot_both_define_a_name(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "mine.sql").write_text("-- source: game-events\nSELECT * FROM events\n")
    with pytest.raises(QueryError, match="already used by the query"):
        load_queries([tmp_path / "a", tmp_path / "b"])
