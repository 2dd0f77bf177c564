"""Every shell, Python, SQL and TOML example of README.md and docs/*.md, run as written against real services.

Each document is followed the way a reader follows it, one example after the other in one shell session: exports
and ``source .venv/bin/activate`` carry over, commands that run ``until Ctrl-C`` are started, waited for and
stopped with Ctrl-C at the end of their section (see :mod:`tests.support.docs` for the conventions). README.md
starts in a plain shell in the repository (``kemu`` is not on PATH until the README activates the virtualenv); the
guides in docs/ start with it activated, as the README leaves the reader.

The documents' commands start their own services (``kemu services up``, ``make demo``) in a run directory of this
test's own, never the user's or the rest of the session's, and on free ports: the test points the documents'
default ports (8000, 4566) at free ones with ``KEMU_API__PORT`` / ``KEMU_KINESIS__PORT`` and rewrites those two
numbers in the examples. Nothing else in an example is changed. Illustrative examples are reported as skipped,
with the reason they give.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from emulator.services.ports import free_port
from tests.support.docs import ROOT, UNTIL_CTRL_C, Block, blocks_of, documents, shell_commands, with_ports

VENV_BIN = Path(sys.executable).parent
#: Examples that belong to a part of the project tested elsewhere, by (document, section): skipped by name here.
TESTED_ELSEWHERE = {
    ("README.md", "With Docker"): "the compose stack is started and checked by the Docker tests (tests/docker)",
    ("docs/docker.md", "The compose demo"): (
        "the compose stack is started and checked by the Docker tests (tests/docker)"
    ),
    ("docs/docker.md", "How CI runs the Docker path"): ".ci/run runs these steps, the Docker tests among them",
}
#: Longest a foreground command may take (a recording at the default pace of 1,000 events/s takes 100 s).
COMMAND_TIMEOUT_S = 420
#: Longest a command that runs until Ctrl-C may take to serve (``make demo`` starts Kafka, MinIO and ten children).
READY_TIMEOUT_S = 240

ALL_BLOCKS = [block for path in documents() for block in blocks_of(path)]


@dataclass
class Background:
    command: str
    block: Block
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class DocSession:
    """One reader's shell: its environment, working directory and the commands left running."""

    env: dict[str, str]
    cwd: Path
    work: Path
    api_port: int
    edge_port: int
    section: str = ""
    tls_port: int = field(default_factory=free_port)
    running: list[Background] = field(default_factory=list)

    def shell(self, command: str, block: Block, timeout_s: float = COMMAND_TIMEOUT_S) -> str:
        """Run one command line in bash with this session's environment; keep what it exports and where it cds."""
        state = self.work / "state"
        script = (
            f"set -eo pipefail\n{command}\n"
            f"__status=$?\nexport -p > {shlex.quote(str(state))}.env\npwd > {shlex.quote(str(state))}.cwd\n"
            "exit $__status\n"
        )
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"{block.name}: `{command}` exited {done.returncode}:\n{output[-4000:]}"
        self.env = read_exports(state.with_suffix(".env"), self.env)
        self.cwd = Path(state.with_suffix(".cwd").read_text().strip())
        return output

    def start(self, command: str, block: Block) -> None:
        """Start a command that runs until Ctrl-C, in a process group of its own (a terminal's foreground job)."""
        log = self.work / f"background-{len(self.running)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S602 - the documented command line, run as a reader's shell would
                command,
                shell=True,
                executable="/bin/bash",
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        job = Background(command, block, process, log)
        self.running.append(job)
        wait_until_serving(job, self)

    def stop_running(self) -> None:
        """Ctrl-C every command left running, newest first; each must not have failed before and must stop."""
        problems = []
        while self.running:
            job = self.running.pop()
            if job.process.poll() is not None:
                problems.append(f"{job.block.name}: `{job.command}` had already exited ({job.process.returncode})")
                continue
            with contextlib.suppress(ProcessLookupError):
                os.killpg(job.process.pid, signal.SIGINT)
            try:
                job.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(job.process.pid, signal.SIGKILL)
                job.process.wait()
                problems.append(f"{job.block.name}: `{job.command}` did not stop within 120 s of Ctrl-C")
            text = job.log.read_text(errors="replace")
            if "Traceback" in text:
                problems.append(f"{job.block.name}: `{job.command}` printed a traceback:\n{text[-3000:]}")
            elif problems and problems[-1].startswith(job.block.name):
                problems[-1] += "\n" + text[-3000:]
        assert not problems, "\n".join(problems)


def read_exports(path: Path, previous: dict[str, str]) -> dict[str, str]:
    """The environment bash printed with ``export -p``, read back by bash itself (no quoting rules of our own)."""
    done = subprocess.run(
        ["bash", "-c", f"source {shlex.quote(str(path))} && env -0"],
        env={},
        capture_output=True,
        check=True,
    )
    env = dict(item.split("=", 1) for item in done.stdout.decode().split("\0") if "=" in item)
    for name in ("PWD", "OLDPWD", "SHLVL", "_"):
        env.pop(name, None)
    return env or previous


def wait_until_serving(job: Background, session: DocSession) -> None:
    """Until the command answers where it serves (or prints its first line, for those that serve nothing)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    api = f"http://127.0.0.1:{session.api_port}"
    edge = f"http://127.0.0.1:{session.edge_port}"
    if "make demo" in job.command or "kemu up" in job.command:
        probes = [f"{api}/readyz", f"{edge}/_kemu/health"]
    elif "kemu kinesis serve" in job.command:
        probes = [f"{edge}/_kemu/health"]
    elif "kemu api serve" in job.command:
        probes = [f"{api}/readyz"]
    else:
        probes = []
    while time.monotonic() < deadline:
        if job.process.poll() is not None:
            raise AssertionError(
                f"{job.block.name}: `{job.command}` exited ({job.process.returncode}) instead of running until "
                f"Ctrl-C:\n{job.log.read_text(errors='replace')[-4000:]}"
            )
        if probes and all(answers(url) for url in probes):
            return
        if not probes and "services up --foreground" in job.command:
            status = subprocess.run(
                ["bash", "-c", "kemu services status"], env=session.env, capture_output=True, check=False
            )
            if status.returncode == 0:
                return
        elif not probes and job.log.stat().st_size > 0:
            return
        time.sleep(0.5)
    raise AssertionError(f"{job.block.name}: `{job.command}` did not serve within {READY_TIMEOUT_S} s")


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def fresh_env(run_dir: Path, work: Path, api_port: int, edge_port: int, activated: bool) -> dict[str, str]:
    """A reader's environment: nothing of kemu's or AWS's from this process, the test's run directory and ports."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEMU_", "AWS_", "VIRTUAL_ENV", "PYTEST"))}
    path = [p for p in env.get("PATH", "/usr/bin:/bin").split(os.pathsep) if Path(p) != VENV_BIN]
    if activated:
        path.insert(0, str(VENV_BIN))
        env["VIRTUAL_ENV"] = str(VENV_BIN.parent)
    env["PATH"] = os.pathsep.join(path)
    env |= {
        "KEMU_SERVICES__RUN_DIR": str(run_dir),
        "KEMU_ANALYTICS__CHECKPOINT_DIR": str(work / "checkpoints"),
        "KEMU_API__PORT": str(api_port),
        "KEMU_KINESIS__PORT": str(edge_port),
        "COLUMNS": "200",
    }
    return env


@pytest.fixture(scope="module")
def docs_run_dir() -> Iterator[Path]:
    """The documents' own embedded services, stopped (and their data deleted) when the module is done."""
    with tempfile.TemporaryDirectory(prefix="kemu-docs-") as tmp:
        run_dir = Path(tmp) / "run"
        try:
            yield run_dir
        finally:
            subprocess.run(
                [str(VENV_BIN / "kemu"), "services", "down", "--purge"],
                env={**fresh_env(run_dir, Path(tmp), 0, 0, activated=True)},
                capture_output=True,
                timeout=120,
                check=False,
            )


@pytest.fixture(scope="module")
def sessions(docs_run_dir: Path) -> Iterator[dict[str, DocSession]]:
    made: dict[str, DocSession] = {}
    before = {p.name for p in ROOT.iterdir()}
    with tempfile.TemporaryDirectory(prefix="kemu-docs-work-") as tmp:
        for path in documents():
            doc = str(path.relative_to(ROOT))
            work = Path(tmp) / doc.replace("/", "_")
            work.mkdir()
            api_port, edge_port = free_port(), free_port()
            readme = doc == "README.md"
            env = fresh_env(docs_run_dir, work, api_port, edge_port, activated=not readme)
            # The README is read from the clone's root; the guides' examples write their files in a scratch dir.
            made[doc] = DocSession(env, ROOT if readme else work, work, api_port, edge_port)
        try:
            yield made
        finally:
            for session in made.values():
                with contextlib.suppress(AssertionError):
                    session.stop_running()
            for name in {p.name for p in ROOT.iterdir()} - before:  # files the README's commands wrote
                target = ROOT / name
                if (
                    target.is_file()
                    and subprocess.run(
                        ["git", "ls-files", "--error-unmatch", name], cwd=ROOT, capture_output=True, check=False
                    ).returncode
                ):
                    target.unlink()


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=[b.name for b in ALL_BLOCKS])
def test_example_runs_as_written(block: Block, sessions: dict[str, DocSession]) -> None:
    session = sessions[block.doc]
    if block.section != session.section:
        session.section = block.section
        session.stop_running()  # the section the running commands belonged to has ended
    elsewhere = TESTED_ELSEWHERE.get((block.doc, block.section))
    if elsewhere is not None:
        pytest.skip(f"{block.name} is tested elsewhere: {elsewhere}")
    if block.illustrative is not None:
        pytest.skip(f"{block.name} is illustrative: {block.illustrative}")
    text = with_ports(block.text, session.api_port, session.edge_port, session.tls_port)
    if block.lang == "bash":
        for command in shell_commands(text):
            if UNTIL_CTRL_C.search(command):
                session.start(command, block)
            else:
                session.shell(command, block)
    elif block.lang == "python":
        script = session.work / f"example-{block.line}.py"
        script.write_text(text)
        session.shell(f"python {shlex.quote(str(script))}", block)
    elif block.lang == "sql" and block.is_query_file:
        folder = session.work / f"queries-{block.line}"
        folder.mkdir(exist_ok=True)
        (folder / "doc_example.sql").write_text(text)
        listed = session.shell(f"kemu analytics list --queries {shlex.quote(str(folder))}", block)
        assert "doc_example" in listed or "name:" in text, listed
    elif block.lang == "sql":
        query = session.work / f"example-{block.line}.sql"
        query.write_text(text)
        session.shell(f"kemu sql --file {shlex.quote(str(query))}", block)
    else:
        check_config(block, session)


def check_config(block: Block, session: DocSession) -> None:
    """A TOML example is a file kemu reads: a query directory's ``sources.toml``, else a settings file."""
    tomllib.loads(block.text)
    config = session.work / f"config-{block.line}.toml"
    config.write_text(block.text)
    if "[sources." in block.text:
        folder = session.work / f"sources-{block.line}"
        folder.mkdir(exist_ok=True)
        (folder / "sources.toml").write_text(block.text)
        session.shell(f"kemu analytics list --queries {shlex.quote(str(folder))}", block)
    else:
        session.shell(f"kemu --config {shlex.quote(str(config))} sink list", block)
