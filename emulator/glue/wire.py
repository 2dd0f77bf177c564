"""The shared AWS protocol pieces the Glue API is built on, imported in this one place.

The JSON 1.1 codec, the error base class with its ``__type`` and status, the member readers and the compacted-topic
helpers live with the Kinesis API today; Glue uses them as they are, so a move of that layer changes only this file.
"""

from __future__ import annotations

from emulator.kinesis.errors import KinesisError as AwsError
from emulator.kinesis.errors import SerializationException, ValidationException, validation_error
from emulator.kinesis.metadata_log import ensure_compacted_topic
from emulator.kinesis.protocol import Timestamp
from emulator.kinesis.shapes import opt_int, opt_list, opt_map, opt_str, req_str

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
