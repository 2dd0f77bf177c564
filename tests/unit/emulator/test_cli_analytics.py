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
