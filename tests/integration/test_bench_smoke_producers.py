"""A tiny run of bench/producers_throughput.py so it does not rot: checks the JSON shape, never a speed."""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "producers_throughput.py"


def test_benchmark_prints_its_json(kafka_bootstrap: str) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--seconds", "0.5", "--kinds", "game", "--bootstrap", kafka_bootstrap],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["benchmark"] == "producers_throughput"
    assert report["machine"]["nproc"] >= 1
    game = report["results"]["game"]
    assert set(game) == {"kemu", "java_producer_perf", "ratio_events_per_s"}
    for side in ("kemu", "java_producer_perf"):
        for field in ("events_per_s", "peak_rss_mib", "process_cpu_us_per_event"):
            assert game[side][field] > 0, (side, field)
    assert game["kemu"]["failed"] == 0
    assert game["kemu"]["acknowledged"] == game["kemu"]["sent"] > 0
    assert game["java_producer_perf"]["record_size"] == round(game["kemu"]["mean_record_bytes"])
    assert game["ratio_events_per_s"] > 0
