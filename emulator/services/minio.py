"""The embedded MinIO server: built once from its Go module, then run as a single-drive server on loopback."""

from __future__ import annotations

import os
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

from emulator.exceptions import ProvisionError, ServiceStartError
from emulator.services.build_progress import BuildProgress
from emulator.services.ports import LOOPBACK
from emulator.services.process import ProcessRef, exited_early, spawn
from emulator.services.progress import Reporter, run_logged
from emulator.services.state import private_dir
from emulator.services.tools import require_tool

MINIO_MODULE = "github.com/minio/minio"


def minio_binary(cache_dir: Path, module_version: str) -> Path:
    return cache_dir / "minio" / module_version / "bin" / "minio"


def provision_minio(cache_dir: Path, module_version: str, reporter: Reporter) -> Path:
    """``go install`` the pinned MinIO commit into the cache; later calls reuse the binary without any build.

    Go's module and build caches (about 2.3 GB for MinIO) live under the version's directory while it builds, not
    in ``~/go`` and ``~/.cache/go-build``, and are deleted once the binary is in place: only the 100 MB binary
    stays. A failed or interrupted build keeps them, so the next attempt resumes instead of downloading again.
    """
    binary = minio_binary(cache_dir, module_version)
    if binary.is_file():
        return binary
    go = require_tool("go", "to build the embedded MinIO server from its Go module")
    home = binary.parent.parent
    staging = home / "bin.partial"
    staging.mkdir(parents=True, exist_ok=True)
    go_dirs = build_cache_dirs(home)
    reporter.step(
        f"building MinIO {module_version} with Go (once: about 5-10 minutes on 2 cores, 2.3 GB of Go caches in "
        f"{home / 'go'} while it builds; the 100 MB binary stays in {home})"
    )
    env = {
        **os.environ,
        "GOBIN": str(staging),
        "GOPATH": str(go_dirs["GOPATH"]),
        "GOMODCACHE": str(go_dirs["GOMODCACHE"]),
        "GOCACHE": str(go_dirs["GOCACHE"]),
        # Writable module files, so the caches can be deleted with the rest after the build.
        "GOFLAGS": "-buildvcs=false -trimpath -modcacherw",
        "CGO_ENABLED": "0",
    }
    log = home / "provision.log"
    progress = BuildProgress()

    def describe(line: str, elapsed_s: float) -> str:
        progress.feed(line, elapsed_s)
        return progress.describe()

    code = run_logged(
        [go, "install", "-v", f"{MINIO_MODULE}@{module_version}"], log, reporter, env=env, describe=describe
    )
    built = staging / "minio"
    if code != 0 or not built.is_file():
        raise ProvisionError(f"`go install {MINIO_MODULE}@{module_version}` failed (exit {code}); see {log}")
    binary.parent.mkdir(parents=True, exist_ok=True)
    built.rename(binary)
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(home / "go", ignore_errors=True)
    return binary


def build_cache_dirs(home: Path) -> dict[str, Path]:
    """Where Go keeps its work while building MinIO: all under ``home/go``, one directory to delete after."""
    root = home / "go"
    return {"GOPATH": root / "path", "GOMODCACHE": root / "mod", "GOCACHE": root / "build"}


def start_minio(
    binary: Path,
    run_dir: Path,
    port: int,
    console_port: int,
    access_key: str,
    secret_key: str,
) -> ProcessRef:
    data_dir = private_dir(run_dir / "minio-data")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(run_dir / "minio"),
        "MINIO_ROOT_USER": access_key,
        "MINIO_ROOT_PASSWORD": secret_key,
        "MINIO_UPDATE": "off",
        "MINIO_CALLHOME_ENABLE": "off",
    }
    private_dir(run_dir / "minio")
    args = [
        str(binary),
        "server",
        str(data_dir),
        "--quiet",
        "--address",
        f"{LOOPBACK}:{port}",
        "--console-address",
        f"{LOOPBACK}:{console_port}",
    ]
    return spawn(args, run_dir / "minio" / "server.log", env=env)


def wait_minio_ready(ref: ProcessRef, endpoint: str, timeout_s: float, log_file: Path) -> None:
    """Poll MinIO's liveness endpoint until it answers 200, the process dies, or time runs out."""
    deadline = time.monotonic() + timeout_s
    url = f"{endpoint}/minio/health/live"
    while time.monotonic() < deadline:
        code = exited_early(ref)
        if code is not None:
            raise ServiceStartError(f"MinIO exited with code {code} while starting; see {log_file}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own http://127.0.0.1 URL
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise ServiceStartError(f"MinIO did not answer on {endpoint} within {timeout_s:.0f} s; see {log_file}")
