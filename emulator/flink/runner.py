"""Running a query's Flink job: on a Flink cluster given by its REST address, or in a local PyFlink mini-cluster."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

from analytics.flink.job import JobOptions, flink_job
from analytics.plan import CompiledQuery
from emulator.exceptions import EmulatorError
from emulator.flink.provision import FlinkRuntime

#: The script that runs a job file with PyFlink (in PyFlink's own virtualenv).
SUBMIT_SCRIPT = Path(__file__).with_name("submit_job.py")


class FlinkJobError(EmulatorError):
    """A Flink job could not be submitted, or failed."""


def write_job(query: CompiledQuery, options: JobOptions, directory: Path) -> Path:
    """The query's job file in ``directory`` (mode 0600: it names the brokers)."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / f"{query.name}.flink.sql"
    path.write_text(flink_job(query, options), encoding="utf-8")
    path.chmod(0o600)
    return path


def submit_command(runtime: FlinkRuntime, job: Path, remote: str | None) -> list[str]:
    command = [str(runtime.python), str(SUBMIT_SCRIPT), str(job), "--jar", str(runtime.connector_jar)]
    return [*command, "--remote", remote] if remote else command


def run_job(runtime: FlinkRuntime, job: Path, remote: str | None, log: Path) -> int:
    """Run ``job``: submitted to ``remote`` (returns once accepted), else in a mini-cluster until it ends or this
    process gets SIGINT/SIGTERM (passed on, so the mini-cluster stops with it). Flink's own output goes to ``log``.
    Returns the submitter's exit code."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        child = subprocess.Popen(  # noqa: S603 - our script run by the provisioned interpreter, no shell
            submit_command(runtime, job, remote),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            # Its own process group: PyFlink starts a JVM as its child, which must stop with it.
            start_new_session=True,
        )

        def forward(signum: int, _frame: object) -> None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signum)

        previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            code = child.wait()
            with contextlib.suppress(subprocess.TimeoutExpired, ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)  # the JVM, if the script ended without it
            return code
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
