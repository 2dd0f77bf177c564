"""The long-run benchmark's pure parts (memory slopes, freshness windows, process names, the table and the plot) and
the API benchmark's merge of several load generators."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from bench.api_latency import merge_loads
from bench.api_load import summarise
from bench.hour_run import MemoryLog, freshness_windows, percentile, plot, slope_per_minute, summary, table
from bench.processes import role_of

pytestmark = pytest.mark.unit


def test_a_flat_series_has_no_slope_and_a_leak_of_two_mb_a_minute_is_measured_as_such() -> None:
    assert slope_per_minute([(t, 100.0) for t in range(0, 600, 30)]) == pytest.approx(0.0)
    leaking = [(t, 100.0 + 2.0 * t / 60) for t in range(0, 3600, 30)]
    assert slope_per_minute(leaking) == pytest.approx(2.0)
    noisy = [(t, 100.0 + (5.0 if (t // 30) % 2 else -5.0)) for t in range(0, 3600, 30)]
    assert abs(slope_per_minute(noisy) or 0.0) < 0.01  # sawtooth around a level is flat


def test_too_few_samples_give_no_slope() -> None:
    assert slope_per_minute([(0, 1.0), (30, 2.0)]) is None
    assert slope_per_minute([(5, 1.0), (5, 2.0), (5, 3.0)]) is None  # no spread in time


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([], 0.99) is None


def test_freshness_is_summarised_per_window_of_the_run() -> None:
    polls = [(t * 0.5, 0.2) for t in range(1200)] + [(600.0 + t * 0.5, 3.0) for t in range(10)]
    windows = freshness_windows(polls, 600.0)
    assert [w["from_min"] for w in windows] == [0.0, 10.0]
    first, second = windows
    assert first["polls"] == 1200
    assert first["p99_s"] == 0.2
    assert second["polls"] == 10
    assert second["max_s"] == 3.0


@pytest.mark.parametrize(
    ("cmdline", "parent", "role"),
    [
        (["/venv/python", "-m", "emulator", "pipeline-component", "analytics", "--nice", "5"], None, "analytics"),
        (["/venv/python", "-m", "emulator", "up", "--port", "8000"], None, "kemu-up"),
        (["java", "-Xmx1G", "kafka.Kafka", "server.properties"], None, "kafka"),
        (["/root/.cache/kemu/minio/bin/minio", "server", "/data"], None, "minio"),
        (["/venv/python", "-c", "from multiprocessing.spawn import spawn_main"], "sink-game-events-to-s3", None),
    ],
)
def test_processes_are_named_by_what_they_run(cmdline: list[str], parent: str | None, role: str | None) -> None:
    assert role_of(cmdline, parent) == (role or f"{parent}/child")


def test_the_summary_flags_a_growing_process_and_the_table_and_plot_show_it(tmp_path: Path) -> None:
    args = argparse.Namespace(minutes=20.0, game_rate=20_000.0, warmup_minutes=5.0, window_minutes=10.0)
    memory = MemoryLog()
    for t in range(0, 1200, 30):
        memory.pss["analytics"].append((t, 300.0))
        memory.rss["analytics"].append((t, 320.0))
        memory.pss["sink"].append((t, 100.0 + 3.0 * t / 60))
        memory.rss["sink"].append((t, 110.0 + 3.0 * t / 60))
    pipeline: list[dict[str, Any]] = [
        {"t": float(t), "produced": 20_000.0 * t, "engine_read": 19_000.0 * t, "engine_lag": 10.0, "load_1m": 1.0}
        for t in range(0, 1200, 30)
    ]
    for sample in pipeline:  # the window state fills for the warm-up, then holds; Arrow's buffers keep growing
        sample["engine_state_rows"] = min(sample["t"], 300.0) * 100
        sample["engine_state_mb"] = min(sample["t"], 300.0) / 10
        sample["engine_arrow_pool_mb"] = 50.0 + 2.0 * sample["t"] / 60
    polls = [(t * 0.5, 0.3) for t in range(2400)]
    result = summary(args, memory, polls, pipeline, missed_polls=2, load=((1.0, 1.0, 1.0), (2.0, 2.0, 2.0)))
    assert result["processes"]["analytics"]["flat"] is True
    assert result["processes"]["sink"]["flat"] is False
    assert result["processes"]["sink"]["pss_slope_mb_per_min"] == pytest.approx(3.0)
    assert [round(r["produced_per_s"]) for r in result["pipeline"]] == [20_000, 20_000]
    assert result["freshness_overall"]["missed_polls"] == 2
    internals = result["engine_internals"]
    assert internals["engine_state_mb"]["slope_per_min"] == pytest.approx(0.0)
    assert internals["engine_state_mb"]["max"] == 30.0
    assert internals["engine_arrow_pool_mb"]["slope_per_min"] == pytest.approx(2.0)
    text = table(result)
    assert "engine_arrow_pool_mb" in text
    assert "sink" in text
    assert "+3.000" in text
    png = tmp_path / "hour.png"
    plot(result, png)
    assert png.read_bytes().startswith(b"\x89PNG")


def test_several_generators_merge_into_one_summary_as_if_one_had_sent_everything() -> None:
    one = {"requests": 3, "elapsed_s": 1.0, "samples": [[0.001, 0.002, 200], [0.002, 0.003, 200], [0.010, 0.011, 200]]}
    two = {"requests": 2, "elapsed_s": 1.2, "samples": [[0.004, 0.004, 200], [0.003, 0.005, 503]]}
    merged = merge_loads([one, two], rate=5.0)
    together = summarise([tuple(s) for s in one["samples"] + two["samples"]], 5, 1.2, 5.0)
    assert merged["generator_processes"] == 2
    assert {k: v for k, v in merged.items() if k != "generator_processes"} == together
    assert merged["completed"] == 5
    assert merged["non_200"] == 1
    assert merged["max_ms"] == 10.0
