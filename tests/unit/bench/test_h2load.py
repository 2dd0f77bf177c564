"""``bench.h2load``: the invocation that gives the asked rate, and the reading of h2load's per-request log."""

from __future__ import annotations

from pathlib import Path

from bench.h2load import command, samples_of


def test_the_rate_is_split_over_the_connections_and_every_request_is_logged(tmp_path: Path) -> None:
    argv = command("http://127.0.0.1:8000", "/leaderboards/x?limit=10", 5000, 30, 50, tmp_path / "log.tsv")
    assert argv[:2] == ["h2load", "--h1"]
    assert argv[argv.index("--clients") + 1] == "50"
    assert argv[argv.index("--rps") + 1] == "100"  # 50 connections x 100/s = 5,000/s
    assert argv[argv.index("--log-file") + 1] == str(tmp_path / "log.tsv")
    assert argv[-1] == "http://127.0.0.1:8000/leaderboards/x?limit=10"


def test_the_log_gives_one_sample_per_request_with_its_status_and_duration_in_seconds() -> None:
    log = "1765000000000000\t200\t1250\n1765000000001000\t503\t40000\n\nnot a row\n"
    assert samples_of(log) == [(0.00125, 0.00125, 200), (0.04, 0.04, 503)]
