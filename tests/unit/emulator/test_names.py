"""One naming rule per kind of name (foundation/names.py): the emulator and the libraries validate with the same
patterns, and the AWS-side limits are AWS's own (botocore's bundled models)."""

from __future__ import annotations

import re

import botocore.session
import pytest
from pydantic import BaseModel

from analytics.config import AnalyticsConfig
from emulator import names
from sinks.config import DeliveryStreamConfig

#: Every ASCII character alone, and names at and around each limit.
SAMPLES = (
    [chr(code) for code in range(128)]
    + ["a" * length for length in (0, 1, 63, 64, 65, 127, 128, 129, 248, 249, 250)]
    + ["kemu-kinesis-metadata", "__consumer_offsets", "game.events_v2", "with space", "ü"]
)


def accepted(pattern: str) -> set[str]:
    return {sample for sample in SAMPLES if re.fullmatch(pattern, sample)}


def field_pattern(model: type[BaseModel], field: str) -> str:
    """The ``pattern`` constraint pydantic enforces on a model's field."""
    patterns = [m.pattern for m in model.model_fields[field].metadata if getattr(m, "pattern", None)]
    assert len(patterns) == 1, (model, field, patterns)
    return str(patterns[0])


@pytest.mark.parametrize(
    ("model", "field", "rule"),
    [
        (DeliveryStreamConfig, "name", names.DELIVERY_STREAM_NAME_PATTERN),
        (DeliveryStreamConfig, "source_topic", names.TOPIC_PATTERN),
        (AnalyticsConfig, "results_topic", names.TOPIC_PATTERN),
    ],
)
def test_the_libraries_validate_with_the_one_rule(model: type[BaseModel], field: str, rule: str) -> None:
    assert field_pattern(model, field) == rule
    assert accepted(field_pattern(model, field)) == accepted(rule)


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
