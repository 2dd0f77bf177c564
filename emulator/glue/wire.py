"""The shared AWS protocol pieces the Glue API is built on, imported in this one place.

The error base class with its ``__type`` and status, the member readers and the compacted-topic helper come from the
endpoint's shared protocol layer (:mod:`emulator.aws`); a change of that layer's names changes only this file.
"""

from __future__ import annotations

from emulator.aws.compacted import ensure_compacted_topic
from emulator.aws.errors import AwsError, SerializationException, ValidationException, validation_error
from emulator.aws.protocol import AwsTimestamp as Timestamp
from emulator.aws.shapes import opt_int, opt_list, opt_map, opt_str, req_str

__all__ = [
    "AwsError",
    "SerializationException",
    "Timestamp",
    "ValidationException",
    "ensure_compacted_topic",
    "opt_int",
    "opt_list",
    "opt_map",
    "opt_str",
    "req_str",
    "validation_error",
]
