"""The one logging setup of every entry point of the emulator (the ``kemu`` commands and ``kemu up``'s children).

Two formats: ``console`` (rich's handler on the terminal's stderr, for people) and ``json`` (one JSON object a line on
stderr, for log collectors: ``KEMU_LOG_FORMAT=json``). A child of ``kemu up`` always writes plain ``LEVEL logger:
message`` lines, which its parent reads, and logs again under the component's name in the parent's format. The JSON
formatter is a dozen lines over orjson, already a dependency, rather than a library for it.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal

import orjson
from rich.console import Console
from rich.logging import RichHandler

LogFormat = Literal["console", "json"]


class JsonFormatter(logging.Formatter):
    """``{"time": ..., "level": ..., "logger": ..., "message": ...}`` (and ``exception`` when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        document = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(document).decode()


def setup_logging(level: str, log_format: LogFormat = "console", console: Console | None = None) -> None:
    """Log at ``level`` and above, in ``log_format``, on stderr (``console``'s, for the console format)."""
    handler: logging.Handler
    if log_format == "json":
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
    else:
        handler = RichHandler(console=console, show_path=False, rich_tracebacks=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    logging.basicConfig(level=level, handlers=[handler])


def setup_child_logging(level: str) -> None:
    """Plain ``LEVEL logger: message`` lines on stderr: the parent adds the time and the component's name."""
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr, force=True)
    quiet_kafka_client(level)


def quiet_kafka_client(level: str) -> None:
    """The Kafka client's chatter (every assignment change at INFO) only from WARNING on."""
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, logging.getLevelName(level)))
