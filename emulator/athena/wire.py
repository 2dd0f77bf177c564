"""The shared AWS protocol pieces the Athena API is built on, imported in this one place (see
:mod:`emulator.glue.wire`)."""

from __future__ import annotations

from emulator.aws.errors import AwsError
from emulator.aws.protocol import AwsTimestamp as Timestamp
from emulator.aws.shapes import opt_int, opt_list, opt_map, opt_str, req_str

__all__ = ["AwsError", "Timestamp", "opt_int", "opt_list", "opt_map", "opt_str", "req_str"]
