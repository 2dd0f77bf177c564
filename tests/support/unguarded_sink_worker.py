"""The sinks' write worker with the format step's guard against pyarrow crashes removed.

The guard keeps input that crashes pyarrow's JSON reader (deep nesting, a leading ``null``) away from it, so the
worker's second line of defence, isolating the record that kills it (``sinks.isolation``), only meets a crash nobody
knows of yet. Run as the worker of a test's delivery stream (``python -m tests.support.unguarded_sink_worker``), this
lets that record reach pyarrow and crash the process for real, so the isolation is tested against a real
segmentation fault.
"""

from __future__ import annotations

import sinks.encoding
from sinks.worker_main import main


def _nothing_is_unsafe(records: object) -> bool:
    return False


if __name__ == "__main__":
    sinks.encoding._unsafe_for_pyarrow = _nothing_is_unsafe  # type: ignore[assignment]
    main()
