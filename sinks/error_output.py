"""Records that could not be delivered as Parquet, as Firehose writes them under the error output prefix.

One JSON object per line: ``attemptsMade``, ``arrivalTimestamp``, ``errorCode``, ``errorMessage``, the raw record
(``rawData``, base64, as Firehose; ``rawDataUtf8`` too when it is text) and where it came from in Kafka. Nothing in
a line depends on the wall clock, so a replay rewrites the same bytes.
"""

from __future__ import annotations

import base64

import orjson

from sinks.exceptions import RecordError


def error_line(
    error: RecordError, raw: bytes, topic: str, partition: int, offset: int, timestamp_ms: int, attempts: int = 1
) -> bytes:
    """One line of an error object (with its trailing newline)."""
    try:
        text: str | None = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return (
        orjson.dumps(
            {
                "attemptsMade": attempts,
                "arrivalTimestamp": timestamp_ms,
                "errorCode": error.code,
                "errorMessage": str(error),
                "errorOutputType": error.output_type,
                "rawData": base64.b64encode(raw).decode("ascii"),
                "rawDataUtf8": text,
                "source": {"topic": topic, "partition": partition, "offset": offset},
            }
        )
        + b"\n"
    )
