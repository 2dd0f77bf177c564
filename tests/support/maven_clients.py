"""Java clients of the endpoint (tests/clients/<name>/): their jars from Maven Central once, into kemu's cache keyed
by the POM's hash, so the work tree stays clean and a changed POM fetches again."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from emulator.settings import default_cache_dir

CLIENTS = Path(__file__).resolve().parents[1] / "clients"


def client_jars(name: str) -> Path:
    """The directory of ``tests/clients/<name>``'s jars; the test is skipped, saying why, without java or mvn."""
    if shutil.which("java") is None or shutil.which("mvn") is None:
        pytest.skip("java 17+ and mvn are needed for the Java clients (Debian: apt-get install openjdk-17-jdk maven)")
    pom = CLIENTS / name / "pom.xml"
    lib = default_cache_dir() / "clients" / f"{name}-{hashlib.sha256(pom.read_bytes()).hexdigest()[:16]}" / "lib"
    if not lib.is_dir() or not any(lib.glob("*.jar")):
        subprocess.run(
            ["mvn", "-q", "-B", "-f", str(pom), "dependency:copy-dependencies", f"-DoutputDirectory={lib}"],
            check=True,
            timeout=900,
        )
    return lib
