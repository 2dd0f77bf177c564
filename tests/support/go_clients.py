"""Go clients of the endpoint (tests/clients/go): built once with the Go toolchain into kemu's cache, keyed by the
hash of the client's sources and go.sum, so the work tree stays clean and a changed client builds again."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from emulator.settings import default_cache_dir
from tests.support.maven_clients import CLIENTS


def go_client(name: str) -> Path:
    """The binary of ``tests/clients/<name>``; the test is skipped, saying why, without the ``go`` command."""
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if go is None:
        pytest.skip("the go command is needed for the Go client (https://go.dev/doc/install, or Debian's golang)")
    source = CLIENTS / name
    digest = hashlib.sha256()
    for path in sorted(source.glob("*")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    binary = default_cache_dir() / "clients" / f"{name}-{digest.hexdigest()[:16]}" / "client"
    if not binary.exists():
        binary.parent.mkdir(parents=True, exist_ok=True)
        # -mod=readonly: go.mod and go.sum say exactly what is built; nothing in the work tree is rewritten.
        subprocess.run(
            [go, "build", "-mod=readonly", "-o", str(binary), "."],
            cwd=source,
            check=True,
            timeout=900,
            env={**os.environ, "GOFLAGS": "-mod=readonly"},
        )
    return binary
