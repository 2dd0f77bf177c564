"""``kemu produce``: recording to a file needs no services; bad arguments get one line and no traceback."""

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from producers import EVENT_MODELS

pytestmark = pytest.mark.unit

KEMU = [sys.executable, "-c", "from emulator.cli import main; main()"]


def kemu(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # A run directory of our own, so no user's running services are picked up.
    env = {"KEMU_SERVICES__RUN_DIR": str(cwd / "run"), "PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    return subprocess.run([*KEMU, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120, check=False)


def test_recording_to_a_file_is_reproducible_with_seed_and_start_time(tmp_path: Path) -> None:
    # Per-generator determinism is tested on the library; this checks the CLI passes seed and start time through.
    model = "clickstream"
    args = ["produce", model, "--count", "500", "--rate", "0", "--seed", "5", "--start-time", "2026-11-27T08:00:00Z"]
    first = kemu(*args, "--to", str(tmp_path / "a.jsonl"), cwd=tmp_path)
    second = kemu(*args, "--to", str(tmp_path / "b.jsonl"), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    lines = (tmp_path / "a.jsonl").read_bytes().splitlines()
    assert len(lines) == 500
    events = [EVENT_MODELS[model].model_validate(orjson.loads(line)) for line in lines]
    assert events[0].event_time.startswith("2026-11-27T08:00:00")
    summary = orjson.loads(first.stdout.strip().splitlines()[-1])
    assert summary["acknowledged"] == 500
    assert summary["seed"] == 5


def test_realism_knobs_reach_the_file(tmp_path: Path) -> None:
    out = tmp_path / "messy.jsonl"
    result = kemu(
        "produce", "iot", "--count", "4000", "--rate", "0", "--seed", "1", "--malformed", "0.1",
        "--out-of-order", "0.1", "--oversized-bytes", "2048", "--to", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = orjson.loads(result.stdout.strip().splitlines()[-1])
    assert sum(summary["malformed"].values()) == pytest.approx(400, rel=0.25)
    assert summary["out_of_order"] == pytest.approx(400, rel=0.25)
    bad = 0
    for line in out.read_bytes().splitlines():
        try:
            EVENT_MODELS["iot"].model_validate(orjson.loads(line))
        except ValueError:
            bad += 1
    assert bad == sum(summary["malformed"].values())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stream", "bad/name", "--count", "3"], "is not a stream name"),
        (["--count", "3", "--duration", "2"], "not both"),
        (["--start-time", "yesterday", "--count", "3"], "is not ISO-8601"),
    ],
)
def test_bad_arguments_get_one_line_and_no_traceback(tmp_path: Path, args: list[str], message: str) -> None:
    result = kemu("produce", "game", *args, "--to", str(tmp_path / "x.jsonl"), cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert message in lines[0]


def test_no_kafka_gives_one_line_saying_how_to_get_one(tmp_path: Path) -> None:
    result = kemu("produce", "game", "--count", "3", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "kemu services up" in result.stderr


def test_a_paced_recording_with_realism_is_byte_identical(tmp_path: Path) -> None:
    # The reported command: --rate paces the run (chunks cut by the wall clock), with both realism options on.
    args = ["produce", "game", "--count", "6000", "--seed", "3", "--start-time", "2026-11-27T08:00:00Z",
            "--rate", "10000", "--out-of-order", "0.05", "--malformed", "0.01",
            "--oversized-bytes", "2048"]  # fmt: skip
    for name in ("a.jsonl", "b.jsonl"):
        done = kemu(*args, "--to", str(tmp_path / name), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_a_recording_without_rate_is_not_paced_and_spaced_at_the_default_rate(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    done = kemu("produce", "iot", "--count", "3000", "--seed", "1", "--start-time", "2026-11-27T08:00:00Z",
                "--to", str(out), cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "as fast as possible" in done.stderr
    times = [orjson.loads(line)["event_time"] for line in out.read_bytes().splitlines()]
    assert times[-1].startswith("2026-11-27T08:00:0")  # 3,000 events at 1,000/s of event time: about 3 s


def test_an_unpaced_recording_for_a_duration_holds_that_much_event_time(tmp_path: Path) -> None:
    # Not "as many events as fit in 2 s of wall clock": 2 s of events at the default 1,000 events/s.
    out = tmp_path / "two-seconds.jsonl"
    done = kemu("produce", "game", "--duration", "2", "--seed", "1", "--start-time", "2026-11-27T08:00:00Z",
                "--to", str(out), cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(out.read_bytes().splitlines()) == 2_000
