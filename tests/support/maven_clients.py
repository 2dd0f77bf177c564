"""Java clients of the endpoint (tests/clients/<name>/): their jars from Maven Central once, into kemu's cache keyed
by the POM's hash, so the work tree stays clean and a changed POM fetches again."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from emulator.settings import default_cache_dir

CLIENTS = Path(__file__).resolve().parents[1] / "clients"


def client_jars(name: str) -> Path:
    """The directory of ``tests/clients/<name>``'s jars; the test is skipped, saying why, without java or mvn."""
    if any(shutil.which(tool) is None for tool in ("java", "javac", "mvn")):
        pytest.skip("a JDK 17+ and mvn are needed for the Java clients (Debian: apt-get install openjdk-17-jdk maven)")
    pom = CLIENTS / name / "pom.xml"
    lib = default_cache_dir() / "clients" / f"{name}-{hashlib.sha256(pom.read_bytes()).hexdigest()[:16]}" / "lib"
    if not lib.is_dir() or not any(lib.glob("*.jar")):
        subprocess.run(
            ["mvn", "-q", "-B", "-f", str(pom), "dependency:copy-dependencies", f"-DoutputDirectory={lib}"],
            check=True,
            timeout=900,
        )
    return lib


def run_java_client(name: str, program: str, *args: str) -> Any:
    """Compile ``tests/clients/<name>/*.java`` together (a program and the classes it shares with the others there)
    against its jars, and run ``program``'s class; its last line of output, which the clients print as JSON. A
    non-zero exit, of the compiler or the client, fails the test with what it printed."""
    lib = client_jars(name)
    sources = sorted(str(path) for path in (CLIENTS / name).glob("*.java"))
    with tempfile.TemporaryDirectory(prefix=f"kemu-{name}-classes-") as classes:
        compiled = subprocess.run(
            ["javac", "-cp", f"{lib}/*", "-d", classes, *sources], capture_output=True, text=True, timeout=300
        )
        assert compiled.returncode == 0, compiled.stdout + compiled.stderr
        done = subprocess.run(
            ["java", "-cp", f"{lib}/*:{classes}", Path(program).stem, *args],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])
