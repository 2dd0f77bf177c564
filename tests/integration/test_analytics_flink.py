"""The same query files on kemu's engine and on Apache Flink (a PyFlink mini-cluster), over the same events in
Kafka: every window's final result agrees, and both agree with the query run as one batch statement in DuckDB.

Four queries: the built-in leaderboard (TUMBLE with a Top-N), the built-in rolling board (HOP with a Top-N), the
built-in hot-device alert (TUMBLE, HAVING, AVG of doubles, alerts output), and a SESSION query. The input ends with
one event per partition an hour later, which no query counts but which moves both engines' watermarks past every
window (Flink's job is bounded as well, so it stops by itself at the end of the input).
"""

from __future__ import annotations

import asyncio
import math
import random
import shutil
import time
from asyncio.subprocess import DEVNULL, PIPE
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.json as pj
import pytest

from analytics import BUILTIN_QUERIES, load_queries
from analytics.emissions import iso_ms, json_value
from analytics.plan import CompiledQuery, window_plan
from emulator.api.models import AlertRecord, ResultRecord
from emulator.api.view import BoardWindow, is_leaderboard
from emulator.flink.provision import provision_flink
from emulator.services.progress import SilentReporter
from producers.partitioning import shard_for_partition_key
from tests.integration.analytics_support import BASE_MS, KEMU, engine_env, output_topics, produce, read_all

SESSION_QUERY = """-- Sessions of each player's scores: 5 seconds without one ends a session.
-- source: game-events
-- emit: final
-- lateness: 1s
SELECT window_start, window_end, player_id AS key, COUNT(*) AS scores, SUM(points) AS points, MAX(level) AS level
FROM TABLE(SESSION(TABLE events, DESCRIPTOR(event_time), INTERVAL '5' SECONDS))
WHERE event_type = 'score' AND player_id IS NOT NULL
GROUP BY window_start, window_end, player_id
"""
QUERIES = ["leaderboard_1m", "leaderboard_rolling_10m", "iot_hot_devices", "player_sessions"]
PARTITIONS = 3
LATER_MS = 3_600_000


def sources_toml(game: str, iot: str) -> str:
    """The built-in sources, on this test's topics."""
    text = (BUILTIN_QUERIES / "sources.toml").read_text()
    return text.replace('topic = "game-events"', f'topic = "{game}"').replace(
        'topic = "iot-telemetry"', f'topic = "{iot}"'
    )


def game_events(rng: random.Random) -> list[dict[str, Any]]:
    """Three minutes of scores of 30 players, in order within 300 ms, with a 20-second pause (so sessions end)."""
    events = []
    for i in range(4_000):
        t = BASE_MS + i * 45 - rng.randint(0, 300)
        if 90_000 <= t - BASE_MS < 110_000:
            continue
        player = f"player-{rng.randint(1, 30):03d}"
        kind = "score" if rng.random() < 0.9 else "level_up"
        events.append(
            {"event_id": f"g{i}", "event_type": kind, "event_time": iso_ms(t), "player_id": player,
             "match_id": "m1", "level": rng.randint(1, 20), "points": rng.randint(0, 100)}
        )  # fmt: skip
    return events


def iot_events(rng: random.Random) -> list[dict[str, Any]]:
    """Two minutes of readings of 12 devices, three of them running hot."""
    events = []
    for i in range(2_400):
        device = rng.randint(1, 12)
        hot = device <= 3
        temperature = rng.uniform(44.0, 66.0) if hot else rng.uniform(15.0, 35.0)
        events.append(
            {"event_id": f"i{i}", "event_type": "reading", "event_time": iso_ms(BASE_MS + i * 50 - rng.randint(0, 200)),
             "device_id": f"device-{device:02d}", "temperature": temperature, "site": f"site-{device % 3}"}
        )  # fmt: skip
    return events


def keyed(events: list[dict[str, Any]], key: str) -> list[tuple[int, dict[str, Any]]]:
    """Each event on the partition of its key (the Kinesis rule), then one later event per partition."""
    placed = [(shard_for_partition_key(str(e[key]), PARTITIONS), e) for e in events]
    later = {"event_id": "later", "event_type": "later", "event_time": iso_ms(BASE_MS + LATER_MS)}
    return placed + [(p, {**later, "event_id": f"later{p}"}) for p in range(PARTITIONS)]


def batch_finals(query: CompiledQuery, events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The query as one batch statement over all events: rows per window key."""
    lines = b"\n".join(orjson.dumps(e) for e in events)
    schema = query.source.arrow_schema()
    table = pj.read_json(pa.py_buffer(lines), parse_options=pj.ParseOptions(explicit_schema=schema))
    con = duckdb.connect()
    con.register("events", table)
    found: dict[str, list[dict[str, Any]]] = {}
    for row in con.sql(window_plan(query).batch_sql).to_arrow_table().to_pylist():
        key = f"{query.name}|{iso_ms(int(row['window_start'].timestamp() * 1000))}"
        if query.window is not None and query.window.kind == "session":
            key += f"|{iso_ms(int(row['window_end'].timestamp() * 1000))}"
        found.setdefault(key, []).append(row)
    return found


def session_finals(events: list[dict[str, Any]], gap_ms: int = 5_000) -> dict[str, list[dict[str, Any]]]:
    """``player_sessions`` worked out event by event: per player, scores less than ``gap_ms`` apart."""
    by_player: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        if event.get("event_type") == "score" and event.get("player_id") is not None:
            by_player.setdefault(event["player_id"], []).append(event)
    found: dict[str, list[dict[str, Any]]] = {}

    def add(player: str, session: list[tuple[int, dict[str, Any]]]) -> None:
        start, end = session[0][0], session[-1][0] + gap_ms
        found[f"player_sessions|{iso_ms(start)}|{iso_ms(end)}"] = [
            {"key": player, "scores": len(session), "points": sum(e["points"] for _, e in session),
             "level": max(e["level"] for _, e in session)}
        ]  # fmt: skip

    for player, scores in by_player.items():
        timed = sorted(((int(datetime.fromisoformat(e["event_time"]).timestamp() * 1000), e) for e in scores),
                       key=lambda pair: pair[0])  # fmt: skip
        session = [timed[0]]
        for t, event in timed[1:]:
            if t - session[-1][0] >= gap_ms:
                add(player, session)
                session = []
            session.append((t, event))
        add(player, session)
    return found


def close(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and math.isclose(a, b, rel_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    return bool(a == b)


def same_rows(left: list[dict[str, Any]], right: list[dict[str, Any]]) -> bool:
    """Equal as multisets of rows (Flink gathers a window's rows in no particular order), floats to 1e-9."""
    order = lambda rows: sorted(rows, key=lambda r: orjson.dumps(r, option=orjson.OPT_SORT_KEYS))  # noqa: E731
    return len(left) == len(right) and all(close(a, b) for a, b in zip(order(left), order(right), strict=True))


def latest(records: list[tuple[bytes | None, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for key, value in records:
        assert key is not None
        found[key.decode()] = value
    return found


@pytest.fixture(scope="session")
def flink_runtime() -> None:
    """PyFlink and the Kafka connector in kemu's cache (installed on first use: minutes, once)."""
    provision_flink(Path.home() / ".cache" / "kemu", SilentReporter())


@pytest.mark.timeout(1200)
async def test_flink_and_kemu_agree_on_every_final_window(
    kafka_bootstrap: str, new_topic: Callable[..., Awaitable[str]], tmp_path: Path, flink_runtime: None
) -> None:
    rng = random.Random(20)
    game, iot = await new_topic(partitions=PARTITIONS), await new_topic(partitions=PARTITIONS)
    query_dir = tmp_path / "queries"
    query_dir.mkdir()
    (query_dir / "sources.toml").write_text(sources_toml(game, iot))
    for name in QUERIES[:3]:
        shutil.copy(BUILTIN_QUERIES / f"{name}.sql", query_dir)
    (query_dir / "player_sessions.sql").write_text(SESSION_QUERY)
    catalog = load_queries([query_dir], builtins=False)

    game_input, iot_input = keyed(game_events(rng), "player_id"), keyed(iot_events(rng), "device_id")
    await produce(kafka_bootstrap, game, game_input)
    await produce(kafka_bootstrap, iot, iot_input)
    expected: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for name in QUERIES:
        events = [e for _, e in (iot_input if name.startswith("iot") else game_input)]
        expected[name] = session_finals(events) if name == "player_sessions" else batch_finals(catalog[name], events)
        assert expected[name], f"the input gives {name} no window"

    engines = {}
    for engine in ("kemu", "flink"):
        topics = await output_topics(new_topic)
        env = engine_env(kafka_bootstrap, query_dir, tmp_path / f"checkpoints-{engine}", topics)
        engines[engine] = topics
        selection = [arg for name in QUERIES for arg in ("--query", name)]
        if engine == "kemu":
            process = await asyncio.create_subprocess_exec(
                str(KEMU), "analytics", "run", *selection, env=env, stdout=DEVNULL, stderr=PIPE
            )
            wanted = sum(len(windows) for name, windows in expected.items() if name != "iot_hot_devices")
            deadline = time.monotonic() + 180
            while True:
                finals = [v for v in latest(await read_all(kafka_bootstrap, topics["results"])).values() if v["final"]]
                if len([v for v in finals if v["rows"]]) >= wanted:
                    break
                assert process.returncode is None, "kemu's engine stopped by itself"
                assert time.monotonic() < deadline, f"kemu closed {len(finals)} of {wanted} windows"
                await asyncio.sleep(2)
            process.terminate()
            _, stderr = await asyncio.wait_for(process.communicate(), 60)
            assert process.returncode == 0, stderr.decode()[-3000:]
            continue
        for name in QUERIES:
            process = await asyncio.create_subprocess_exec(
                str(KEMU), "analytics", "run", "--engine", "flink", "--bounded", "--query", name,
                env=env, stdout=PIPE, stderr=PIPE,
            )  # fmt: skip
            stdout, stderr = await asyncio.wait_for(process.communicate(), 300)
            assert process.returncode == 0, (stdout + stderr).decode()[-3000:]

    results = {engine: latest(await read_all(kafka_bootstrap, topics["results"])) for engine, topics in engines.items()}
    alerts = {engine: latest(await read_all(kafka_bootstrap, topics["alerts"])) for engine, topics in engines.items()}
    for name in QUERIES:
        if name == "iot_hot_devices":
            continue
        for engine in ("kemu", "flink"):
            got = {k: v["rows"] for k, v in results[engine].items() if v["query"] == name and v["final"] and v["rows"]}
            assert set(got) == set(expected[name]), f"{engine} {name}: other windows than the batch statement's"
            for key, rows in got.items():
                drop = ("window_start", "window_end")
                batch = [{k: json_value(v) for k, v in r.items() if k not in drop} for r in expected[name][key]]
                mine = [{k: v for k, v in r.items() if k not in drop} for r in rows]
                assert same_rows(mine, batch), f"{engine} {name} {key}: {mine} != {batch}"
        kemu_rows = {k: v["rows"] for k, v in results["kemu"].items() if v["query"] == name and v["rows"]}
        flink_rows = {k: v["rows"] for k, v in results["flink"].items() if v["query"] == name}
        assert set(kemu_rows) == set(flink_rows)
        for key in kemu_rows:
            assert same_rows(kemu_rows[key], flink_rows[key]), key

    hot = sum(len(rows) for rows in expected["iot_hot_devices"].values())
    assert hot > 0
    for engine in ("kemu", "flink"):
        assert len(alerts[engine]) == hot, engine
    assert alerts["kemu"].keys() == alerts["flink"].keys()
    for alert_id, alert in alerts["kemu"].items():
        other = alerts["flink"][alert_id]
        for field in ("query", "key", "window_start", "window_end", "severity", "message"):
            assert alert[field] == other[field], (alert_id, field)
        assert close(alert["evidence"], other["evidence"]), alert_id
    assert await read_all(kafka_bootstrap, engines["flink"]["errors"]) == []

    # The API reads either engine's records the same way: each parses as the contract's record, and the boards
    # are served as boards, ranked as kemu ranks them.
    for engine in ("kemu", "flink"):
        for record in results[engine].values():
            parsed = ResultRecord.model_validate(record)
            if parsed.query.startswith("leaderboard") and parsed.rows:
                assert is_leaderboard(parsed.rows)
                ranks = [entry.rank for entry in BoardWindow.of(parsed).entries]
                assert ranks == list(range(1, len(ranks) + 1))
        for alert in alerts[engine].values():
            AlertRecord.model_validate(alert)
