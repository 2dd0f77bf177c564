"""The naming rules of what users name (streams, delivery streams, topics, boards): one regex and one limit each.

A Kinesis stream is the Kafka topic of the same name, so a stream name is a topic name with AWS's shorter limit;
the other kinds follow AWS's model (botocore's ``StreamName`` and ``DeliveryStreamName`` shapes) or Kafka's
(249 characters of its topic alphabet). The patterns themselves are ``foundation.names``, which the libraries
(``producers``, ``analytics``, ``sinks``) use too; the emulator's settings, shapes and routes take them from here,
with the Glue names and the predicates only the emulator needs.
"""

from __future__ import annotations

import re

from foundation.names import (
    DELIVERY_STREAM_NAME_PATTERN,
    MAX_DELIVERY_STREAM_NAME,
    MAX_STREAM_NAME,
    MAX_TOPIC_NAME,
    NAME_CHARACTERS,
    STREAM_NAME_PATTERN,
    TOPIC_PATTERN,
    name_pattern,
)

#: A Glue database or table name as kemu keeps it (lower case; Glue lower-cases what it is given).
GLUE_NAME = r"[a-z0-9_][a-z0-9_-]{0,254}"
#: A table of the Glue catalog named ``database.table`` (delivery streams' ``catalog_tables``, Firehose's tag).
GLUE_TABLE_REF_RE = re.compile(rf"({GLUE_NAME})\.({GLUE_NAME})")
#: The characters alone, unanchored and unbounded, as AWS's shapes state them (their length is checked apart).
NAME_RE = re.compile(f"[{NAME_CHARACTERS}]+")


def is_stream_name(name: str) -> bool:
    return len(name) <= MAX_STREAM_NAME and NAME_RE.fullmatch(name) is not None


def is_delivery_stream_name(name: str) -> bool:
    return len(name) <= MAX_DELIVERY_STREAM_NAME and NAME_RE.fullmatch(name) is not None


__all__ = [
    "DELIVERY_STREAM_NAME_PATTERN",
    "GLUE_NAME",
    "GLUE_TABLE_REF_RE",
    "MAX_DELIVERY_STREAM_NAME",
    "MAX_STREAM_NAME",
    "MAX_TOPIC_NAME",
    "NAME_CHARACTERS",
    "NAME_RE",
    "STREAM_NAME_PATTERN",
    "TOPIC_PATTERN",
    "is_delivery_stream_name",
    "is_stream_name",
    "name_pattern",
]
