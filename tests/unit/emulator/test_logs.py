"""The one logging setup: the JSON format is one parseable object a line, with the exception when there is one."""

from __future__ import annotations

import logging
import sys

import orjson
import pydantic
import pytest

from emulator.logs import JsonFormatter
from emulator.settings import Settings


def test_a_json_line_carries_level_logger_message_and_exception() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("kemu.test").makeRecord(
            "kemu.test", logging.ERROR, __file__, 1, "failed %s", ("once",), exc_info=sys.exc_info()
        )
    line = JsonFormatter().format(record)
    assert "\n" not in line  # the traceback's lines are escaped inside the one JSON line
    document = orjson.loads(line)
    assert document["level"] == "ERROR"
    assert document["logger"] == "kemu.test"
    assert document["message"] == "failed once"
    assert "ValueError: boom" in document["exception"]
    assert document["time"][10] == "T"


def test_the_setting_accepts_only_the_two_formats() -> None:
    assert Settings.load(log_format="json").log_format == "json"
    with pytest.raises(pydantic.ValidationError):
        Settings.load(log_format="xml")
