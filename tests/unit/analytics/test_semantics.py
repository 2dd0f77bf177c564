"""Window semantics, each from a reported example: the replay a user would run, and what it must give."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson

from analytics import load_queries, replay
from analytics.plan import CompiledQuery
from analytics.query_files import BUILTIN_QUERIES
from analytics.sources import load_sources
from tests.unit.analytics.support import BASE_MS, Event, compile_text, iso, run

SOURCES = load_sources(BUILTIN_QUERIES / "sources.toml")


def builtin_source_query(text: str, name: str = "q.sql") -> CompiledQuery:
    from analytics.compiler import compile_query

    return compile_query(Path(name), text, SOURCES)


def replay_lines(query: CompiledQuery, events: list[dict[str, Any]], tmp_path: Path, batch_size: int) -> bytes:
    source = tmp_path / "events.jsonl"
    source.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    out = tmp_path / f"out-{batch_size}.jsonl"
    replay(query, source, out, batch_size)
    return out.read_bytes()


def records(output: bytes, topic: str) -> list[dict[str, Any]]:
    lines = [orjson.loads(line) for line in output.splitlines()]
    return [line["value"] for line in lines if line["topic"] == topic]


SESSION_COUNT = """-- source: game-events
-- lateness: 5s
SELECT window_start, window_end, player_id AS key, COUNT(*) AS n, SUM(points) AS score
FROM SESSION(events, DESCRIPTOR(event_time), INTERVAL '30 seconds')
GROUP BY window_start, window_end, player_id
"""


def score(player: str, at: str, points: int = 1, event_id: str | None = None) -> dict[str, Any]:
    return {
        "event_id": event_id or f"{player}@{at}",
        "event_type": "score",
        "event_time": f"2026-11-27T08:{at}Z",
        "player_id": player,
        "points": points,
    }


def test_an_event_inside_an_open_session_merges_before_its_lateness_is_judged(tmp_path: Path) -> None:
    # Gap 30 s, lateness 5 s, one event per batch. After v @00:42 the watermark is 00:40 (2 s out-of-orderness):
    # u1's session [00:00, 00:50) is open, and u1 @00:05 falls inside it. Its own window [00:05, 00:35) ended at
    # 00:35 + 5 s <= 00:40, but it merges into the open session first (as in Flink), so it is on time.
    events = [score("u1", "00:00.000"), score("u1", "00:20.000"), score("v", "00:42.000"), score("u1", "00:05.000")]
    output = replay_lines(builtin_source_query(SESSION_COUNT), events, tmp_path, batch_size=1)
    assert records(output, "analytics-late-events") == []
    finals = [r for r in records(output, "analytics-results") if r["final"]]
    u1 = [r for r in finals if r["rows"] and r["rows"][0]["key"] == "u1"]
    assert [(r["window_start"], r["window_end"], r["rows"][0]["n"]) for r in u1] == [
        ("2026-11-27T08:00:00.000Z", "2026-11-27T08:00:50.000Z", 3)
    ]


def test_an_event_overlapping_no_open_session_is_late_for_its_own_session(tmp_path: Path) -> None:
    # The same stream, but u2 had no session open at 00:05: its event is late, for the session it would have begun.
    events = [score("u1", "00:00.000"), score("u1", "00:20.000"), score("v", "00:42.000"), score("u2", "00:05.000")]
    output = replay_lines(builtin_source_query(SESSION_COUNT), events, tmp_path, batch_size=1)
    late = records(output, "analytics-late-events")
    assert [(e["event"]["player_id"], e["missed_windows"]) for e in late] == [
        ("u2", [["2026-11-27T08:00:05.000Z", "2026-11-27T08:00:35.000Z"]])
    ]


def test_a_late_looking_event_joins_through_a_session_it_extended(tmp_path: Path) -> None:
    # One event per batch. u1's first session [00:30, 01:00) closes when v @01:20 lifts the watermark to 01:18;
    # u1 @01:00 opens [01:00, 01:30), still open at watermark 01:33. Then u1 @00:40 (own window [00:40, 01:10),
    # closed) overlaps that open session and extends it; u1 @00:35 overlaps the extended session and joins too.
    events = [
        score("u1", "00:30.000"),
        score("v", "01:20.000"),
        score("u1", "01:00.000"),
        score("v", "01:35.000"),
        score("u1", "00:40.000"),
        score("u1", "00:35.000"),
    ]
    output = replay_lines(builtin_source_query(SESSION_COUNT), events, tmp_path, batch_size=1)
    assert records(output, "analytics-late-events") == []
    finals = [r for r in records(output, "analytics-results") if r["final"]]
    u1 = sorted((r["window_start"], r["window_end"], r["rows"][0]["n"]) for r in finals if r["rows"][0]["key"] == "u1")
    assert u1 == [
        ("2026-11-27T08:00:30.000Z", "2026-11-27T08:01:00.000Z", 1),
        ("2026-11-27T08:00:35.000Z", "2026-11-27T08:01:30.000Z", 3),
    ]


def test_events_of_one_batch_merge_with_each_other_before_lateness_is_judged() -> None:
    # The last batch holds u1 @20 s, whose window [20, 50) overlaps no open session, and u1 @40 s, whose window
    # [40, 70) overlaps both it and the open [60, 90): the events of one batch share one watermark, so both join.
    query = compile_text(SESSION_COUNT.replace("game-events", "game"))

    def at(seconds: int) -> int:
        return BASE_MS + seconds * 1000

    arrivals = [
        [Event("a", 0, at(30), "u1", 1)],
        [Event("b", 0, at(80), "v", 1)],
        [Event("c", 0, at(60), "u1", 1)],
        [Event("d", 0, at(93), "v", 1)],
        [Event("e", 0, at(20), "u1", 1), Event("f", 0, at(40), "u1", 1)],
    ]
    outcome = run(query, arrivals)
    assert outcome.late == []
    u1 = sorted(
        (r.window_start_ms - BASE_MS, r.window_end_ms - BASE_MS, r.rows[0]["n"])
        for r in outcome.results
        if r.final and r.rows and r.rows[0]["key"] == "u1"
    )
    assert u1 == [(20_000, 90_000, 3), (30_000, 60_000, 1)]


def test_sub_millisecond_event_times_are_truncated_everywhere(tmp_path: Path) -> None:
    # 08:00:59.9996 is in the millisecond 08:00:59.999, so in [08:00, 08:01): one rule (truncation) for windows,
    # watermarks and late checks.
    text = """-- source: game-events
-- out_of_orderness: 0s
SELECT window_start, window_end, COUNT(*) AS n, MAX(event_time) AS last
FROM TUMBLE(events, DESCRIPTOR(event_time), INTERVAL '1 minute')
GROUP BY window_start, window_end
"""
    events = [score("a", "00:10.000"), score("a", "00:59.9996"), score("a", "01:00.0004")]
    output = replay_lines(builtin_source_query(text), events, tmp_path, batch_size=1)
    finals = {r["window_start"]: r["rows"][0]["n"] for r in records(output, "analytics-results") if r["final"]}
    assert finals == {"2026-11-27T08:00:00.000Z": 2, "2026-11-27T08:01:00.000Z": 1}
    assert records(output, "analytics-late-events") == []


def test_a_hop_window_takes_a_sub_millisecond_time_at_its_edge(tmp_path: Path) -> None:
    text = """-- source: game-events
SELECT window_start, window_end, COUNT(*) AS n
FROM HOP(events, DESCRIPTOR(event_time), INTERVAL '30 seconds', INTERVAL '1 minute')
GROUP BY window_start, window_end
"""
    output = replay_lines(builtin_source_query(text), [score("a", "00:29.9999")], tmp_path, batch_size=1)
    finals = sorted((r["window_start"], r["window_end"]) for r in records(output, "analytics-results") if r["final"])
    assert finals == [
        ("2026-11-27T07:59:30.000Z", "2026-11-27T08:00:30.000Z"),
        ("2026-11-27T08:00:00.000Z", "2026-11-27T08:01:00.000Z"),
    ]


ALERT_BY_PLAYER = """-- source: game-events
-- output: alerts
SELECT window_start, window_end, player_id AS key, COUNT(*) AS n
FROM TUMBLE(events, DESCRIPTOR(event_time), INTERVAL '1 minute')
GROUP BY window_start, window_end, player_id
"""


def test_a_null_group_key_is_null_in_the_alert_never_the_string_none(tmp_path: Path) -> None:
    nameless = {"event_id": "x", "event_type": "score", "event_time": "2026-11-27T08:00:01.000Z", "points": 3}
    output = replay_lines(builtin_source_query(ALERT_BY_PLAYER), [score("p", "00:00.000"), nameless], tmp_path, 10)
    alerts = records(output, "analytics-alerts")
    by_key = {a["key"]: a for a in alerts}
    assert set(by_key) == {"p", None}
    assert by_key[None]["evidence"]["key"] is None
    assert "None" not in by_key[None]["message"]
    assert by_key[None]["message"] == "q fired"
    assert by_key["p"]["message"] == "q fired for p"
    assert {a["severity"] for a in alerts} == {"warning"}
    assert by_key[None]["alert_id"] != by_key["p"]["alert_id"]


def test_an_alert_keyed_by_the_string_none_differs_from_a_null_key(tmp_path: Path) -> None:
    nameless = {"event_id": "x", "event_type": "score", "event_time": "2026-11-27T08:00:01.000Z", "points": 3}
    output = replay_lines(builtin_source_query(ALERT_BY_PLAYER), [score("None", "00:00.000"), nameless], tmp_path, 10)
    ids = {a["alert_id"] for a in records(output, "analytics-alerts")}
    assert len(ids) == 2


def test_builtin_iot_alerts_ignore_records_without_a_device(tmp_path: Path) -> None:
    catalog = load_queries()
    events = []
    for i in range(40):
        at = iso(BASE_MS + i * 1000)
        events.append({"event_id": f"n{i}", "event_type": "reading", "event_time": at, "temperature": 70.0})
    events.append({"event_id": "late", "event_type": "reading", "event_time": iso(BASE_MS + 200_000)})
    for name in ("iot_hot_devices", "iot_silent_devices"):
        output = replay_lines(catalog[name], events, tmp_path, 10)
        assert records(output, "analytics-alerts") == [], name


def prices(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {
            "event_id": f"e{i}",
            "event_type": "purchase",
            "event_time": iso(BASE_MS + i * 137),
            "user_id": f"u{rng.randrange(40)}",
            "url": f"https://shop.example/p/{rng.randrange(9)}",
            "price": round(rng.uniform(0.01, 99.99), 2),
        }
        for i in range(count)
    ]


FLOAT_HOP = """-- source: clickstream
SELECT window_start, window_end, url AS key, SUM(price) AS revenue, AVG(price) AS mean, COUNT(*) AS n
FROM HOP(events, DESCRIPTOR(event_time), INTERVAL '10 seconds', INTERVAL '1 minute')
GROUP BY window_start, window_end, url
"""


def final_rows(output: bytes) -> dict[str, Any]:
    return {r["window_start"]: r["rows"] for r in records(output, "analytics-results") if r["final"]}


def test_float_sums_are_the_same_whatever_the_batch_size(tmp_path: Path) -> None:
    query = builtin_source_query(FLOAT_HOP)
    events = prices(3000, 1)
    runs = [final_rows(replay_lines(query, events, tmp_path, size)) for size in (1000, 7, 3000, 1000)]
    assert all(run == runs[0] for run in runs[1:])


def test_a_builtin_float_query_replays_byte_identically(tmp_path: Path) -> None:
    query = load_queries()["page_metrics_1m"]
    events = prices(5000, 2)
    first = replay_lines(query, events, tmp_path, 500)
    assert all(replay_lines(query, events, tmp_path, 500) == first for _ in range(3))
    assert final_rows(replay_lines(query, events, tmp_path, 333)) == final_rows(first)


def test_rows_without_order_by_come_in_one_canonical_order(tmp_path: Path) -> None:
    # No ORDER BY: rows come sorted by their columns in select-list order, so every run gives the same records.
    query = builtin_source_query(ALERT_BY_PLAYER.replace("player_id AS key", "player_id AS key, MIN(points) AS low"))
    rng = random.Random(4)
    events = [score(f"p{rng.randrange(300)}", f"00:{i % 60:02d}.{i:03d}", points=i) for i in range(900)]
    output = replay_lines(query, events, tmp_path, 900)
    keys = [a["key"] for a in records(output, "analytics-alerts")]
    assert keys == sorted(keys)
    assert all(replay_lines(query, events, tmp_path, 900) == output for _ in range(3))


def test_ties_of_an_order_by_are_broken_the_same_way_every_run(tmp_path: Path) -> None:
    text = """-- source: game-events
SELECT window_start, window_end, player_id AS key, COUNT(*) AS n
FROM TUMBLE(events, DESCRIPTOR(event_time), INTERVAL '1 minute')
GROUP BY window_start, window_end, player_id
ORDER BY n DESC
"""
    events = [score(f"p{i % 200}", f"00:{i % 60:02d}.{i:03d}") for i in range(800)]
    output = replay_lines(builtin_source_query(text), events, tmp_path, 800)
    rows = final_rows(output)["2026-11-27T08:00:00.000Z"]
    assert [r["key"] for r in rows] == sorted(r["key"] for r in rows)  # all tie at n = 4: the columns break it


def test_replayed_results_carry_their_source_offsets(tmp_path: Path) -> None:
    events = [score("a", "00:00.000"), score("a", "00:30.000"), score("a", "01:10.000")]
    output = replay_lines(compile_text_game(), events, tmp_path, batch_size=1)
    results = records(output, "analytics-results")
    assert results
    assert all("source_offsets" in r for r in results)
    # Offsets are line numbers; a result says the next line to read once its input was processed.
    assert [r["source_offsets"] for r in results if not r["final"]] == [{"0": 2}, {"0": 3}, {"0": 4}]


def compile_text_game() -> CompiledQuery:
    return builtin_source_query(
        """-- source: game-events
-- emit: changes
SELECT window_start, window_end, COUNT(*) AS n
FROM TUMBLE(events, DESCRIPTOR(event_time), INTERVAL '1 minute')
GROUP BY window_start, window_end
"""
    )


def test_a_growing_session_emits_its_changes_under_the_session_never_an_event_window(tmp_path: Path) -> None:
    text = SESSION_COUNT.replace("-- lateness: 5s", "-- lateness: 5s\n-- emit: changes")
    events = [score("u1", "00:00.000"), score("u1", "00:20.000")]
    output = replay_lines(builtin_source_query(text), events, tmp_path, batch_size=1)
    changes = [(r["window_start"], r["window_end"], [row["n"] for row in r["rows"]])
               for r in records(output, "analytics-results") if not r["final"]]  # fmt: skip
    assert changes == [
        ("2026-11-27T08:00:00.000Z", "2026-11-27T08:00:30.000Z", [1]),
        ("2026-11-27T08:00:00.000Z", "2026-11-27T08:00:50.000Z", [2]),
    ]


FLINK_HOP = """-- source: clickstream
SELECT window_start, window_end, url AS key, SUM(price) AS revenue, AVG(price) AS mean, COUNT(*) AS n
FROM TABLE(
    HOP(TABLE events, DESCRIPTOR(event_time), INTERVAL '10' SECONDS, INTERVAL '1' MINUTES)) -- 'TABLE(' in a comment
GROUP BY window_start, window_end, url
"""


def test_flinks_own_window_syntax_gives_what_kemus_spelling_gives(tmp_path: Path) -> None:
    events = prices(800, 3)
    flink = replay_lines(builtin_source_query(FLINK_HOP), events, tmp_path, 100)
    duck = replay_lines(builtin_source_query(FLOAT_HOP), events, tmp_path, 100)
    assert final_rows(flink) == final_rows(duck)
    assert final_rows(flink)


def test_flink_spellings_of_each_window_kind_compile() -> None:
    for call in (
        "TUMBLE(TABLE events, DESCRIPTOR(event_time), INTERVAL '1' MINUTE)",
        "SESSION(TABLE events, DESCRIPTOR(event_time), INTERVAL '30' SECOND)",
        "CUMULATE(TABLE events, DESCRIPTOR(event_time), INTERVAL '10' SECONDS, INTERVAL '1' MINUTE)",
        "hop ( table events , descriptor(event_time), interval '10' seconds, interval '1' minute )",
    ):
        text = f"""-- source: game-events
SELECT window_start, window_end, COUNT(*) AS n
FROM TABLE({call})
GROUP BY window_start, window_end
"""
        assert builtin_source_query(text).window is not None, call


def test_only_events_the_query_counts_can_be_late(tmp_path: Path) -> None:
    # A late level_up event is not late for a query that counts scores only: it would not have counted anyway.
    text = """-- source: game-events
-- out_of_orderness: 0s
SELECT window_start, window_end, COUNT(*) AS n
FROM TUMBLE(events, DESCRIPTOR(event_time), INTERVAL '1 minute')
WHERE event_type = 'score'
GROUP BY window_start, window_end
"""
    level_up = {**score("a", "00:10.000", event_id="level"), "event_type": "level_up"}
    events = [score("a", "00:10.000"), score("a", "01:30.000"), level_up, score("a", "00:20.000", event_id="late")]
    output = replay_lines(builtin_source_query(text), events, tmp_path, batch_size=1)
    assert [e["event"]["event_id"] for e in records(output, "analytics-late-events")] == ["late"]
