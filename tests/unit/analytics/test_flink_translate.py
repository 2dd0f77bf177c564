"""The Flink translation of query files: what translates, how, and the file:line errors of what does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics import QueryError, compile_query, load_queries, load_sources
from analytics.config import OutputTopics
from analytics.flink.dialect import java_format
from analytics.flink.job import JobOptions, flink_job
from analytics.flink.translate import translate
from analytics.query_files import BUILTIN_QUERIES

OPTIONS = JobOptions("broker:9092", OutputTopics())
SOURCES = load_sources(BUILTIN_QUERIES / "sources.toml")


def compiled(tmp_path: Path, body: str, header: str = "-- source: game-events\n") -> object:
    path = tmp_path / "q.sql"
    path.write_text(header + body)
    return compile_query(path, path.read_text(), SOURCES)


@pytest.mark.parametrize(
    "name", ["leaderboard_1m", "leaderboard_rolling_10m", "iot_hot_devices", "iot_silent_devices", "page_metrics_1m",
             "clickstream_error_spike"],
)  # fmt: skip
def test_every_windowed_builtin_translates(name: str) -> None:
    job = flink_job(load_queries()[name], OPTIONS)
    assert "EXECUTE STATEMENT SET BEGIN" in job
    assert "FROM TABLE(" in job


def test_top_n_becomes_a_window_top_n_with_the_row_value_expanded() -> None:
    rows = translate(load_queries()["leaderboard_1m"]).rows_sql
    assert (
        "ROW_NUMBER() OVER (PARTITION BY `__ws`, `__we` ORDER BY `__o0` ASC NULLS LAST, `__o1` ASC NULLS LAST)" in rows
    )
    assert "-SUM(`points`) AS `__o0`" in rows
    assert rows.endswith("<= 10")


def test_duckdb_semantics_are_kept(tmp_path: Path) -> None:
    query = compiled(
        tmp_path,
        "SELECT window_start, window_end, COUNT(*) FILTER (WHERE event_type = 'x') / COUNT(*) AS r, AVG(points) AS a\n"
        "FROM TUMBLE(events, DESCRIPTOR(event_time), INTERVAL '1 minute') GROUP BY window_start, window_end\n",
    )
    rows = translate(query).rows_sql  # type: ignore[arg-type]
    assert "CAST(COUNT(*) FILTER(WHERE `event_type` = 'x') AS DOUBLE) / NULLIF(COUNT(*), 0)" in rows
    assert "AVG(CAST(`points` AS DOUBLE))" in rows


def test_lateness_delays_the_watermark_and_idle_timeout_is_an_option(tmp_path: Path) -> None:
    job = flink_job(load_queries()["leaderboard_1m"], OPTIONS)
    # out_of_orderness 2 s (the source) + lateness 10 s (the query)
    assert "WATERMARK FOR `event_time` AS `event_time` - INTERVAL '0 00:00:12.000' DAY TO SECOND(3)" in job
    assert "SET 'table.exec.source.idle-timeout' = '10000 ms';" in job


def test_strftime_formats_become_java_patterns() -> None:
    assert java_format("%Y-%m-%dT%H:%M:%S") == "yyyy-MM-dd'T'HH:mm:ss"
    assert java_format("%Y%m%d%H") == "yyyyMMddHH"


@pytest.mark.parametrize(
    ("body", "line", "reason"),
    [
        ("SELECT window_start, window_end,\n  MIN(hash(player_id)) AS h\nFROM TUMBLE(events, DESCRIPTOR(event_time), "
         "INTERVAL '1 minute') GROUP BY window_start, window_end\n", 3, "no Flink translation"),
        ("SELECT window_start, window_end, player_id, SUM(points) AS s,\n  ROW_NUMBER() OVER (PARTITION BY "
         "window_start ORDER BY SUM(points)) AS r\nFROM TUMBLE(events, DESCRIPTOR(event_time), INTERVAL '1 minute')\n"
         "GROUP BY window_start, window_end, player_id\nQUALIFY r <= 3 AND s > 10\n", 6, "QUALIFY r <= N"),
        ("SELECT event_id,\n  points\nFROM events\n", 2, "only windowed queries"),
    ],
)  # fmt: skip
def test_what_does_not_translate_fails_with_file_line_and_reason(
    tmp_path: Path, body: str, line: int, reason: str
) -> None:
    with pytest.raises(QueryError) as error:
        flink_job(compiled(tmp_path, body), OPTIONS)  # type: ignore[arg-type]
    assert error.value.path == tmp_path / "q.sql"
    assert reason in error.value.reason
    assert error.value.line == line, error.value
