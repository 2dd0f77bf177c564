"""A write worker that converts and uploads nothing: it answers ``Ready``, reads each job's records and answers
every ``Go`` with an empty ``WriteResult``. Run as ``python -m tests.support.draining_sink_worker`` by a test that
measures what the consuming side of a delivery stream holds while it hands a write over the pipe (no S3 involved)."""

from __future__ import annotations

import os
import sys

from sinks.worker import Go, Ready, WriteJob, WriteResult, frame, read_frame, read_job_blocks


def main() -> None:
    stdin = sys.stdin.buffer
    out = os.fdopen(os.dup(1), "wb")
    message = read_frame(stdin)
    while message is not None:
        if isinstance(message, WriteJob):
            if not read_job_blocks(message, stdin):
                return
        else:
            out.write(frame(WriteResult(message.job) if isinstance(message, Go) else Ready()))
            out.flush()
        message = read_frame(stdin)


if __name__ == "__main__":
    main()
