"""The child's side of :mod:`emulator.runtime.child_process`: what ``kemu pipeline-component`` (and a benchmark's
child process) does to live under a parent: die with it, and keep stdout for the stats lines.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
from typing import IO

#: prctl(2) option: the signal this process gets when the thread that started it exits.
PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Ask the kernel for SIGTERM when the parent dies (a ``kill -9`` of ``kemu up`` must not leave orphans), then
    check the parent did not die before the request took effect. Linux only; elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        logging.getLogger(__name__).warning("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
    if parent_pid and os.getppid() != parent_pid:
        raise SystemExit(0)


def stats_channel() -> IO[str]:
    """The original stdout, kept for the stats lines; fd 1 then points at stderr so a stray print cannot corrupt
    them."""
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    return channel
