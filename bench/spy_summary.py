"""Where a process's busy time goes, from a ``py-spy record --format raw --idle`` file: each function's share of the
samples in which the process was doing something (inclusive: a function counts in every sample it is on the stack).

    py-spy record --rate 100 --duration 60 --format raw --idle --threads --pid PID -o engine.txt
    .venv/bin/python -m bench.spy_summary engine.txt --top 40

A sample whose innermost frame waits (an idle pool thread, the event loop's ``select``, a lock) is idle and left out,
so the shares are of the work, not of the wall clock. Frames are named ``function (file)`` without line numbers, so
one function's samples are counted together wherever in it they fell. py-spy, a standalone sampler, is not a project
dependency (install it with ``pip install py-spy`` where you profile).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

#: Innermost frames that mean "waiting", not working.
IDLE_LEAVES = frozenset({"select", "wait", "get", "_wait_for_tstate_lock", "acquire", "poll", "_worker", "sleep"})
#: Frames every busy sample shares (the interpreter's entry, the command line, the event loop), shown by --all only.
_PLUMBING = (
    "<frozen runpy>", "typer/", "click/", "__main__.py", "cli/", "asyncio/base_events.py", "asyncio/runners.py",
    "asyncio/events.py", "threading.py", "concurrent/futures/thread.py",
)  # fmt: skip


def frame_name(frame: str) -> str:
    """``function (file:line)`` as ``function (file)``."""
    function, _, where = frame.partition(" (")
    return f"{function} ({where.split(':', 1)[0].rstrip(')')})" if where else function


def summarise(lines: Iterable[str]) -> tuple[int, int, Counter[str]]:
    """(samples, busy samples, busy samples each frame is on the stack of)."""
    total = busy = 0
    inclusive: Counter[str] = Counter()
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [frame_name(f) for f in stack.split(";")]
        if frames[-1].split(" (", 1)[0] in IDLE_LEAVES:
            continue
        busy += n
        for name in set(frames):
            inclusive[name] += n
    return total, busy, inclusive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("raw", type=Path, help="py-spy's --format raw output")
    parser.add_argument("--top", type=int, default=40, help="functions shown")
    parser.add_argument("--all", action="store_true", help="also the frames every busy sample shares")
    args = parser.parse_args()
    with args.raw.open() as lines:
        total, busy, inclusive = summarise(lines)
    shown = [
        (name, samples)
        for name, samples in inclusive.most_common()
        if args.all or not (name.startswith("thread (") or any(p in name for p in _PLUMBING))
    ][: args.top]
    for name, samples in shown:
        print(f"{samples / max(busy, 1):6.1%}  {name}", file=sys.stderr)
    shares = {name: round(samples / max(busy, 1), 4) for name, samples in shown}
    print(json.dumps({"samples": total, "busy_samples": busy, "inclusive_share_of_busy": shares}, indent=2))


if __name__ == "__main__":
    main()
