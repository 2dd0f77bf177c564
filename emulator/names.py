"""The naming rules of what users name (streams, delivery streams, topics, boards): one regex and one limit each.

A Kinesis stream is the Kafka topic of the same name, so a stream name is a topic name with AWS's shorter limit;
the other kinds follow AWS's model (botocore's ``StreamName`` and ``DeliveryStreamName`` shapes) or Kafka's
(249 characters, ``[a-zA-Z0-9._-]``). Settings, shapes and routes take their patterns from here; the libraries
(``producers``, ``analytics``, ``sinks``), which import nothing of ours, keep their own copies, which a unit test holds
equal to these.
"""

from __future__ import annotations

import re

#: The characters of every name here: Kafka's topic alphabet, which is also AWS's for streams (in its model's spelling).
NAME_CHARACTERS = "a-zA-Z0-9_.-"
#: Kafka refuses longer topic names.
MAX_TOPIC_NAME = 249
#: Kinesis stream names (botocore: ``StreamName``), and the names of what the API serves per query.
MAX_STREAM_NAME = 128
#: Firehose delivery stream names (botocore: ``DeliveryStreamName``).
MAX_DELIVERY_STREAM_NAME = 64


def name_pattern(max_length: int) -> str:
    """The anchored pattern of a name of 1 to ``max_length`` characters (for pydantic ``Field(pattern=...)``)."""
    return rf"^[{NAME_CHARACTERS}]{{1,{max_length}}}$"


#: Any Kafka topic (metadata topics, analytics outputs, sink sources).
TOPIC_PATTERN = name_pattern(MAX_TOPIC_NAME)
#: A Kinesis stream, a board (an analytics query), a stream the API reports on.
STREAM_NAME_PATTERN = name_pattern(MAX_STREAM_NAME)
#: A Firehose delivery stream.
DELIVERY_STREAM_NAME_PATTERN = name_pattern(MAX_DELIVERY_STREAM_NAME)
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
