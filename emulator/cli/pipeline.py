"""``kemu pipeline-component NAME`` (hidden): one component of ``kemu up`` in its own process.

``kemu up`` starts this (see :mod:`emulator.runtime.child_process`); it is not meant to be typed. The component is
the same object ``kemu up`` would run in process. Its settings come from the environment; stdout carries one JSON
line of its ``stats()`` a second (and a last one at exit), anything else goes to stderr, one log line per record.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from types import FrameType
from typing import Annotated

import typer

from emulator.cli.app import app, print_error
from emulator.exceptions import ConfigurationError


@app.command("pipeline-component", hidden=True)
def pipeline_component(
    name: Annotated[str, typer.Argument(help="The component, as named in kemu up's status.")],
    nice: Annotated[int, typer.Option("--nice", min=0, max=19, help="CPU priority increment.")] = 0,
    parent_pid: Annotated[int, typer.Option("--parent-pid", help="Exit with this process.")] = 0,
    stats_interval: Annotated[float, typer.Option("--stats-interval", min=0.05)] = 1.0,
) -> None:
    """Run one pipeline component of ``kemu up`` until SIGTERM (started by ``kemu up``, not by hand)."""
    # Until the event loop takes them over, and again once it is gone, a stop signal must not look like a failure
    # (the CLI turns SIGTERM into KeyboardInterrupt, exit 130): a child still importing its engines (slow at a low
    # priority on a busy machine) has nothing to flush and exits 0; once the component has stopped it is ignored.
    signal.signal(signal.SIGTERM, _exit_quietly)
    signal.signal(signal.SIGINT, _exit_quietly)
    from emulator.runtime.child_side import die_with_parent

    die_with_parent(parent_pid)
    # Before any thread starts: Linux applies nice per thread, and new threads inherit the creator's value.
    if nice:
        os.nice(nice)
    from emulator.endpoints import configured_endpoints
    from emulator.logs import setup_child_logging
    from emulator.runtime.child_process import INFO_KEY, settings_from_environment
    from emulator.runtime.child_side import stats_channel
    from emulator.runtime.wiring import PIPELINE_COMPONENTS
    from emulator.supervision import as_component

    settings = settings_from_environment(os.environ)
    setup_child_logging(settings.log_level)
    context = configured_endpoints(settings)
    if context is None:
        raise ConfigurationError("pipeline-component needs KEMU_KAFKA__BOOTSTRAP_SERVERS and KEMU_S3__* set")
    found = [c for factory in PIPELINE_COMPONENTS for c in factory(context) if c.name == name]
    if not found:
        raise ConfigurationError(f"no pipeline component named {name!r} in these settings")
    component = found[0]
    channel = stats_channel()

    def report() -> None:
        stats = getattr(component, "stats", None)
        info = getattr(component, "info", None)
        if stats is None and info is None:
            return
        line: dict[str, object] = dict(stats()) if stats is not None else {}
        if info is not None:
            line[INFO_KEY] = dict(info())
        channel.write(json.dumps(line, separators=(",", ":")) + "\n")

    async def main() -> None:
        task = asyncio.create_task(as_component(component).run(), name=name)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)  # the component's own clean stop: flush, checkpoint

        async def reporter() -> None:
            while True:
                await asyncio.sleep(stats_interval)
                report()

        reporting = asyncio.create_task(reporter())
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        finally:
            reporting.cancel()
            report()

    try:
        asyncio.run(main())
    except Exception as exc:
        # One line the parent reports as the failure; the traceback stays out of the user's terminal.
        print_error(f"{type(exc).__name__}: {exc}")
        raise typer.Exit(1) from None
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _exit_quietly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
