"""Run a Flink SQL job file with PyFlink: ``python submit_job.py JOB.sql --jar CONNECTOR.jar [--remote HOST:PORT]``.

This script runs in the PyFlink virtualenv (see :mod:`emulator.flink.provision`), not in kemu's, and imports
nothing of kemu. ``SET 'key' = 'value';`` lines become the job's configuration; every other statement is given to
``TableEnvironment.execute_sql`` in order, the last one being the job's ``EXECUTE STATEMENT SET``. Without
``--remote`` the job runs in a local mini-cluster inside this process until it ends (a bounded job) or the process
is stopped; with it, the job is submitted to that cluster's REST endpoint and the script returns once it is
accepted, printing the job id.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

_SET = re.compile(r"^SET\s+'([^']+)'\s*=\s*'((?:[^']|'')*)'\s*;\s*$", re.IGNORECASE)


def statements(text: str) -> list[str]:
    """The job's statements: a statement ends with a line ending in ``;``, except inside ``EXECUTE STATEMENT SET
    BEGIN ... END;``; comment lines are dropped."""
    found: list[str] = []
    current: list[str] = []
    in_set = False
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("--"):
            continue
        current.append(line)
        if stripped.upper().startswith("EXECUTE STATEMENT SET"):
            in_set = True
        if (in_set and stripped.upper() == "END;") or (not in_set and stripped.endswith(";")):
            found.append("\n".join(current).strip())
            current, in_set = [], False
    if current:
        found.append("\n".join(current).strip())
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("job", type=Path)
    parser.add_argument("--jar", type=Path, required=True, help="the Kafka SQL connector jar")
    parser.add_argument("--remote", help="HOST:PORT of a Flink cluster's REST endpoint")
    args = parser.parse_args(argv)

    from pyflink.table import EnvironmentSettings, TableEnvironment

    environment: Any = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    config = environment.get_config()
    config.set("pipeline.jars", args.jar.resolve().as_uri())
    if args.remote:
        host, _, port = args.remote.rpartition(":")
        config.set("execution.target", "remote")
        config.set("rest.address", host)
        config.set("rest.port", port)
    result = None
    for statement in statements(args.job.read_text(encoding="utf-8")):
        match = _SET.match(statement)
        if match:
            config.set(match.group(1), match.group(2).replace("''", "'"))
            continue
        result = environment.execute_sql(statement.rstrip().removesuffix(";"))
    client = result.get_job_client() if result is not None else None
    if result is None or client is None:
        print("the job file has no INSERT to run", file=sys.stderr)
        return 2
    print(f"submitted Flink job {client.get_job_id()}", flush=True)
    if not args.remote:
        result.wait()
        print("Flink job finished", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
