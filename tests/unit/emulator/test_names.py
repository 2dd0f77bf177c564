"""One naming rule per kind of name (emulator/names.py): the libraries, which import nothing of ours, keep copies that
must accept exactly the same names, and the AWS-side limits are AWS's own (botocore's bundled models)."""

from __future__ import annotations

import re

import botocore.session
import pytest

from analytics.config import TOPIC_PATTERN as ANALYTICS_TOPIC
from emulator import names
from producers.config import STREAM_NAME_PATTERN as PRODUCERS_STREAM
from sinks.config import STREAM_NAME_PATTERN as SINKS_DELIVERY_STREAM
from sinks.config import TOPIC_PATTERN as SINKS_TOPIC

#: Every ASCII character alone, and names at and around each limit.
SAMPLES = (
    [chr(code) for code in range(128)]
    + ["a" * length for length in (0, 1, 63, 64, 65, 127, 128, 129, 248, 249, 250)]
    + ["kemu-kinesis-metadata", "__consumer_offsets", "game.events_v2", "with space", "ü"]
)


def accepted(pattern: str) -> set[str]:
    return {sample for sample in SAMPLES if re.fullmatch(pattern, sample)}


@pytest.mark.parametrize(
    ("ours", "copy"),
    [
        (names.STREAM_NAME_PATTERN, PRODUCERS_STREAM),
        (names.TOPIC_PATTERN, SINKS_TOPIC),
        (names.TOPIC_PATTERN, ANALYTICS_TOPIC),
        (names.DELIVERY_STREAM_NAME_PATTERN, SINKS_DELIVERY_STREAM),
    ],
)
def test_the_libraries_copies_accept_exactly_the_same_names(ours: str, copy: str) -> None:
    assert accepted(ours) == accepted(copy)


def test_the_aws_limits_are_botocores() -> None:
    session = botocore.session.get_session()
    stream = session.get_service_model("kinesis").shape_for("StreamName").metadata
    delivery = session.get_service_model("firehose").shape_for("DeliveryStreamName").metadata
    assert (stream["max"], stream["pattern"]) == (names.MAX_STREAM_NAME, names.NAME_RE.pattern)
    assert (delivery["max"], delivery["pattern"]) == (names.MAX_DELIVERY_STREAM_NAME, names.NAME_RE.pattern)


def test_the_predicates_follow_the_patterns() -> None:
    for sample in SAMPLES:
        assert names.is_stream_name(sample) == (sample in accepted(names.STREAM_NAME_PATTERN))
        assert names.is_delivery_stream_name(sample) == (sample in accepted(names.DELIVERY_STREAM_NAME_PATTERN))
