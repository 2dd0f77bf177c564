"""The rule of every name a user gives that becomes a Kafka topic, a consumer group or part of an object key.

A Kinesis stream is the Kafka topic of the same name, so a stream name is a topic name with AWS's shorter limit;
delivery streams follow Firehose's model (botocore's ``DeliveryStreamName``) and topics Kafka's (249 characters). The
emulator's settings, shapes and routes and the libraries' configurations (``producers``, ``analytics``, ``sinks``) all
take their patterns from here, so one rule cannot drift into several.
"""

from __future__ import annotations

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


#: Any Kafka topic (metadata topics, analytics outputs, sink sources) and consumer group kemu names.
TOPIC_PATTERN = name_pattern(MAX_TOPIC_NAME)
#: A Kinesis stream, a board (an analytics query), a stream the API reports on.
STREAM_NAME_PATTERN = name_pattern(MAX_STREAM_NAME)
#: A Firehose delivery stream.
DELIVERY_STREAM_NAME_PATTERN = name_pattern(MAX_DELIVERY_STREAM_NAME)
#: A prefix of such names (it may be empty: what is added after it makes the name).
NAME_PREFIX_PATTERN = rf"^[{NAME_CHARACTERS}]*$"
