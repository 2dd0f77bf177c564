"""``kemu analytics run --workers N`` and ``--group-member``: one query on several engine processes.

``--workers N`` starts N worker processes (each ``kemu analytics run --query Q --group-member``, with this
process's settings through the environment) and runs the query's merge stage itself, until Ctrl-C or SIGTERM, which
it passes on to the workers (each flushes and writes its checkpoints). A worker that dies is not restarted: the
group gives its partitions to the others. ``--workers 0`` runs the merge stage alone, for workers started by hand
with ``--group-member`` (on this machine or others sharing the checkpoint directory).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from emulator.cli.app import console
from emulator.exceptions import EmulatorError, reported_as
from emulator.runtime.child_side import die_with_parent

if TYPE_CHECKING:
    from analytics.config import AnalyticsConfig
    from analytics.plan import CompiledQuery

log = logging.getLogger(__name__)

#: Set in a worker's environment to the pid of the ``--workers`` process that started it, which it dies with.
PARENT_ENV = "KEMU_SCALEOUT_PARENT"
#: How long a stopping worker may take to flush and checkpoint before it is killed.
_STOP_TIMEOUT_S = 30.0


class ScaleOutCliError(EmulatorError):
    """A query cannot be scaled out as asked."""


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def run_group_member(query: CompiledQuery, bootstrap: str, config: AnalyticsConfig) -> None:
    """One worker of ``query``'s consumer group, until Ctrl-C or SIGTERM."""
    from analytics.scaleout import GroupWorker, ScaleOutError

    parent = os.environ.get(PARENT_ENV, "")
    if parent.isdigit():
        die_with_parent(int(parent))
    with reported_as(ScaleOutError, ScaleOutCliError):
        worker = GroupWorker(query, bootstrap, config)

    async def main() -> None:
        stop = _stop_on_signals()  # before the first line: a Ctrl-C after it stops the worker in order
        console.print(f"worker of {query.name} in group {worker.group}; Ctrl-C stops", highlight=False, markup=False)
        await worker.run(stop)

    asyncio.run(main())


def run_scaled(
    query: CompiledQuery, bootstrap: str, config: AnalyticsConfig, workers: int, argv: Sequence[str]
) -> None:
    """The merge stage of ``query`` here, and ``workers`` worker processes started with ``argv`` (the command line
    of one ``--group-member``)."""
    from analytics.scaleout import MergeStage, ScaleOutError, describe_source, group_name, partials_topic, refusal

    why = refusal(query)
    if why is not None:
        raise ScaleOutCliError(why)
    group = group_name(config.progress_group_prefix, query.name)

    async def main() -> None:
        stop = _stop_on_signals()
        console.print(
            f"{query.name}: merge stage here, {workers} worker(s) in group {group}; Ctrl-C stops",
            highlight=False,
            markup=False,
        )
        environment = {**os.environ, PARENT_ENV: str(os.getpid())}
        # Each worker in a process group of its own, so a terminal's Ctrl-C reaches only this process, which stops
        # the workers in order below: one still importing when Ctrl-C reached the whole group printed a
        # KeyboardInterrupt traceback (seen by the docs test on a loaded machine). setpgrp in the child rather
        # than ``process_group=0``, which uvloop refuses.
        children = [
            await asyncio.create_subprocess_exec(
                *argv, env=environment, stdin=asyncio.subprocess.DEVNULL, preexec_fn=os.setpgrp
            )
            for _ in range(workers)
        ]
        watchers = [asyncio.create_task(_watch(child, number)) for number, child in enumerate(children, 1)]
        try:
            partitions, _ = await describe_source(bootstrap, query.source.topic, stop, query.name)
            if partitions:
                stage = MergeStage(query, bootstrap, config, partials_topic(group), partitions)
                await stage.run(stop)
        finally:
            for child in children:
                if child.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    await asyncio.wait_for(child.wait(), _STOP_TIMEOUT_S)
                except TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        child.kill()
                    await child.wait()
            for watcher in watchers:
                watcher.cancel()

    with reported_as(ScaleOutError, ScaleOutCliError):
        asyncio.run(main())


async def _watch(child: asyncio.subprocess.Process, number: int) -> None:
    code = await child.wait()
    if code not in (0, -signal.SIGTERM):
        log.warning(
            "worker %d (pid %d) exited with %d; the group gives its partitions to the others", number, child.pid, code
        )


def member_argv(query: str, query_dirs: Sequence[Path], config_path: Path | None) -> list[str]:
    """The command line of one worker: this kemu, the same settings file and query directories."""
    argv = [sys.executable, "-m", "emulator"]
    if config_path is not None:
        argv += ["--config", str(config_path)]
    argv += ["analytics", "run", "--query", query, "--group-member"]
    for directory in query_dirs:
        argv += ["--queries", str(directory)]
    return argv
