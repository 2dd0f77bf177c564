"""PyFlink and the Kafka SQL connector, provisioned once into kemu's cache (``<cache>/flink/<version>``).

PyFlink lives in a virtualenv of its own, not in kemu's: ``apache-flink`` pins ``pyarrow`` 16 and ``numpy`` 2.1
(through Apache Beam), while kemu needs ``pyarrow`` 19 or newer. kemu never imports PyFlink; it writes a job file
and runs :mod:`emulator.flink.submit_job` with that virtualenv's Python. The connector jar comes from Maven
Central, fetched by Maven as the embedded Kafka's jars are.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from emulator.exceptions import ProvisionError
from emulator.services.progress import Reporter, run_logged
from emulator.services.tools import require_tool

#: PyFlink's release and the Kafka SQL connector built for it (the connector's version names its Flink release).
FLINK_VERSION = "2.2.1"
KAFKA_CONNECTOR = "org.apache.flink:flink-sql-connector-kafka:5.0.0-2.2"


@dataclass(frozen=True)
class FlinkRuntime:
    """A provisioned PyFlink: the Python that has it, and the connector jar for ``pipeline.jars``."""

    python: Path
    connector_jar: Path
    home: Path


def flink_home(cache_dir: Path, version: str = FLINK_VERSION) -> Path:
    return cache_dir / "flink" / version


def _runtime(home: Path) -> FlinkRuntime:
    jar = next((home / "lib").glob("flink-sql-connector-kafka-*.jar"), home / "lib" / "missing.jar")
    return FlinkRuntime(home / "venv" / "bin" / "python", jar, home)


def is_flink_provisioned(cache_dir: Path, version: str = FLINK_VERSION) -> bool:
    home = flink_home(cache_dir, version)
    return (home / "venv" / ".complete").is_file() and (home / "lib" / ".complete").is_file()


def provision_flink(cache_dir: Path, reporter: Reporter, version: str = FLINK_VERSION) -> FlinkRuntime:
    """Create the PyFlink virtualenv and fetch the connector once; later calls use the cache without network."""
    home = flink_home(cache_dir, version)
    venv, lib = home / "venv", home / "lib"
    home.mkdir(parents=True, exist_ok=True)
    require_tool("java", "to run Apache Flink")
    if not (venv / ".complete").is_file():
        reporter.step(f"installing PyFlink {version} into {venv} (once; about 800 MB)")
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603 - our own interpreter
        log = home / "pip.log"
        code = run_logged(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", f"apache-flink=={version}"], log, reporter
        )
        if code != 0:
            raise ProvisionError(f"pip could not install apache-flink=={version} (exit {code}); see {log}")
        (venv / ".complete").write_text(version)
    if not (lib / ".complete").is_file():
        mvn = require_tool("mvn", "to download Flink's Kafka SQL connector from Maven Central")
        reporter.step(f"downloading {KAFKA_CONNECTOR} from Maven Central (once)")
        staging = home / "lib.partial"
        shutil.rmtree(staging, ignore_errors=True)
        log = home / "mvn.log"
        code = run_logged(
            [mvn, "-B", "-ntp", "dependency:copy", f"-Dartifact={KAFKA_CONNECTOR}", f"-DoutputDirectory={staging}"],
            log,
            reporter,
            cwd=home,
        )
        if code != 0:
            raise ProvisionError(f"Maven could not fetch {KAFKA_CONNECTOR} (exit {code}); see {log}")
        shutil.rmtree(lib, ignore_errors=True)
        staging.rename(lib)
        (lib / ".complete").write_text(KAFKA_CONNECTOR)
    return _runtime(home)
