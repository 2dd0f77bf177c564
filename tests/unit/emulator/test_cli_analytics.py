"""``kemu analytics``: replay writes the records a live run would produce; a bad query is one line, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

KEMU = Path(sys.executable).parent / "kemu"


def test_replay_and_list(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(
        b"".join(
            orjson.dumps({"event_id": str(i), "event_type": "score", "event_time": f"2026-11-27T08:0{i // 60}:"
                          f"{i % 60:02d}.000Z", "player_id": f"p{i % 3}", "points": i}) + b"\n"
            for i in range(150)
        )
        + b"not json\n"
    )  # fmt: skip
    output = tmp_path / "results.jsonl"
    command = [str(KEMU), "analytics", "replay", "--query", "leaderboard_1m", "--input", str(events)]
    done = subprocess.run([*command, "--output", str(output)], capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode()
    lines = [orjson.loads(line) for line in output.read_bytes().splitlines()]
    finals = [line["value"] for line in lines if line["topic"] == "analytics-results" and line["value"]["final"]]
    assert [f["window_start"] for f in finals] == ["2026-11-27T08:00:00.000Z", "2026-11-27T08:01:00.000Z",
                                                   "2026-11-27T08:02:00.000Z"]  # fmt: skip
    assert finals[0]["rows"][0] == {
        "window_start": "2026-11-27T08:00:00.000Z", "window_end": "2026-11-27T08:01:00.000Z",
        "rank": 1, "key": "p2", "score": sum(i for i in range(60) if i % 3 == 2),
    }  # fmt: skip
    assert [line["topic"] for line in lines].count("analytics-errors") == 1

    listed = subprocess.run([str(KEMU), "analytics", "list"], capture_output=True, timeout=60, check=False)
    assert listed.returncode == 0
    assert b"leaderboard_rolling_10m" in listed.stdout


def test_a_bad_query_is_reported_as_file_line_reason(tmp_path: Path) -> None:
    (tmp_path / "broken.sql").write_text("-- source: game-events\nSELECT window_start, SUM(nope)\nFROM events\n")
    done = subprocess.run(
        [str(KEMU), "analytics", "list", "--queries", str(tmp_path)], capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 1
    message = done.stderr.decode()
    assert "broken.sql:" in message
    assert "Traceback" not in message


def test_an_error_prints_its_text_as_written_not_as_markup(tmp_path: Path) -> None:
    (tmp_path / "bad.sql").write_text("-- name: Bad Name\n-- source: game-events\nSELECT * FROM events\n")
    done = subprocess.run(
        [str(KEMU), "analytics", "list", "--queries", str(tmp_path)], capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 1
    message = " ".join(done.stderr.decode().split())
    assert "query name 'Bad Name' must be 1 to 64 lowercase letters" in message
    assert "^[a-z0-9][a-z0-9_-]{0,63}$" in message


def kemu(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(KEMU), *args], capture_output=True, text=True, timeout=120, check=False, cwd=cwd)


def test_replaying_events_of_another_source_says_so(tmp_path: Path) -> None:
    # IoT events replayed through the game leaderboard: none has a player or points, so nothing can match.
    made = kemu("produce", "iot", "--count", "300", "--seed", "7", "--to", "events.jsonl", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    done = kemu(
        "analytics", "replay", "--query", "leaderboard_1m", "--input", "events.jsonl", "--output", "out.jsonl",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    message = " ".join(done.stderr.split())
    assert "none of the 300 events in events.jsonl has player_id or points, which query leaderboard_1m reads" in message
    assert "device_id" in message  # what the file's events look like
    assert (
        "look like events of source 'iot-telemetry', which these queries read: iot_hot_devices, iot_silent_devices"
        in message
    )
    assert "Traceback" not in message


def test_the_readme_replay_pair_produces_results(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[3] / "README.md").read_text()
    lines = [line.split("#")[0].split() for line in readme.splitlines() if line.startswith("kemu ")]
    produce = next(line for line in lines if line[:2] == ["kemu", "produce"] and "--to" in line)
    replay = next(line for line in lines if line[:3] == ["kemu", "analytics", "replay"])
    made = kemu(*produce[1:], cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    done = kemu(*replay[1:], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    output = tmp_path / replay[replay.index("--output") + 1]
    finals = [orjson.loads(line)["value"] for line in output.read_bytes().splitlines()]
    assert any(value.get("final") and value.get("rows") for value in finals)


def test_scale_out_refuses_a_session_query_with_a_sentence(tmp_path: Path) -> None:
    (tmp_path / "visits.sql").write_text(
        "-- source: game-events\nSELECT window_start, window_end, player_id, COUNT(*) AS n\n"
        "FROM SESSION(events, DESCRIPTOR(event_time), INTERVAL '5 seconds')\n"
        "GROUP BY window_start, window_end, player_id\n"
    )
    command = [str(KEMU), "analytics", "run", "--query", "visits", "--queries", str(tmp_path), "--workers", "2"]
    done = subprocess.run(command, capture_output=True, timeout=60, check=False)
    assert done.returncode == 1
    message = done.stderr.decode()
    assert "query visits uses SESSION windows" in message
    assert "Traceback" not in message
