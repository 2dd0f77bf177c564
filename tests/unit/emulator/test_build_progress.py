"""The first MinIO build's progress line: downloads counted, then packages compiled with an estimate of the time
left from the compile rate so far."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.services.build_progress import BuildProgress
from emulator.services.minio import build_cache_dirs


def test_downloads_are_counted_before_any_estimate() -> None:
    progress = BuildProgress(expected_packages=100)
    progress.feed("go: downloading github.com/minio/minio v0.0.0-x\n", 1.0)
    progress.feed("go: downloading cloud.google.com/go v0.120.1\n", 2.0)
    assert progress.describe() == "downloading modules (2 so far)"
    assert progress.seconds_left() is None


def test_time_left_follows_the_compile_rate() -> None:
    progress = BuildProgress(expected_packages=1000)
    progress.feed("go: downloading x v1\n", 0.0)
    for i in range(250):  # compiling starts at 100 s and does 250 packages in 100 s
        progress.feed(f"pkg/{i}\n", 100.0 + (i + 1) * 0.4)
    # 750 packages at the rate so far, plus the long last step (MinIO's own command and the link)
    assert progress.seconds_left() == pytest.approx(300.0 + 120.0, rel=0.01)
    assert progress.describe() == "compiling: 250/1000 packages, about 7 min left"


def test_too_few_packages_give_no_estimate_and_the_end_names_the_long_last_step() -> None:
    progress = BuildProgress(expected_packages=100)
    progress.feed("internal/cpu\n", 10.0)
    assert progress.describe() == "compiling: 1/100 packages, estimating the time left"
    for i in range(120):  # more packages than expected (another Go release): never a negative estimate
        progress.feed(f"p{i}\n", 11.0 + i)
    assert progress.seconds_left() == 0
    assert progress.describe().startswith("compiling: 100/100 packages, compiling and linking the minio command")


def test_go_caches_stay_under_the_minio_version_directory(tmp_path: Path) -> None:
    dirs = build_cache_dirs(tmp_path / "minio" / "v1")
    assert set(dirs) == {"GOPATH", "GOMODCACHE", "GOCACHE"}
    assert all(path.is_relative_to(tmp_path / "minio" / "v1" / "go") for path in dirs.values())
