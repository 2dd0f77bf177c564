"""The one rule for which topics the Kinesis and Firehose APIs may reach (emulator.topics)."""

from __future__ import annotations

import pytest

from emulator.config.firehose import FirehoseSettings
from emulator.config.kinesis import KinesisSettings
from emulator.firehose.store import direct_put_topic
from emulator.topics import TopicPolicy

POLICY = TopicPolicy.of("my-stream-metadata", "my-firehose-metadata")


@pytest.mark.parametrize(
    "topic",
    [
        "__consumer_offsets",
        "__transaction_state",
        "__share_group_state",
        "__cluster_metadata",
        "__anything",
        "kemu-kinesis-metadata",
        "kemu-firehose-metadata",
        "kemu-firehose-metadata-test-1234",
        "my-stream-metadata",
        "my-firehose-metadata",
        direct_put_topic("orders"),
    ],
)
def test_kafka_and_kemu_internal_topics_are_sealed(topic: str) -> None:
    assert POLICY.is_sealed(topic)
    assert POLICY.public([topic, "orders"]) == ["orders"]
    assert topic in POLICY.refusal(topic)


@pytest.mark.parametrize(
    "topic", ["orders", "_one_underscore", "clickstream", "analytics-results", "kemu", "my-kemu-x"]
)
def test_user_topics_are_public(topic: str) -> None:
    assert not POLICY.is_sealed(topic)


def test_the_default_metadata_topics_are_sealed_by_their_prefix_alone() -> None:
    defaults = KinesisSettings()
    policy = TopicPolicy()
    assert policy.is_sealed(defaults.metadata_topic)
    assert policy.is_sealed(FirehoseSettings().metadata_topic)


def test_refusals_say_why() -> None:
    assert "Kafka's internal topics" in POLICY.refusal("__consumer_offsets")
    assert "kemu's internal topics" in POLICY.refusal("kemu-x")
    assert "metadata" in POLICY.refusal("my-stream-metadata")


def test_kemu_topics_are_the_metadata_and_analytics_outputs_of_the_settings_and_the_defaults() -> None:
    from emulator.settings import Settings
    from emulator.topics import kemu_topics

    settings = Settings.load(serving={"results_topic": "my-results"})
    shown_apart = kemu_topics(settings)
    assert {"kemu-kinesis-metadata", "kemu-firehose-metadata", "analytics-results", "my-results"} <= shown_apart
    policy = TopicPolicy.of(settings.kinesis.metadata_topic, settings.kinesis.firehose.metadata_topic)
    # The two notions differ on purpose: metadata is sealed from the APIs, analytics outputs stay readable.
    assert policy.is_sealed("kemu-kinesis-metadata")
    assert not policy.is_sealed("analytics-results")


def test_the_endpoint_leaves_kemus_readable_topics_out_of_list_streams() -> None:
    from emulator.settings import Settings
    from emulator.topics import kinesis_settings

    settings = Settings.load(serving={"alerts_topic": "my-alerts"}, kinesis={"unlisted_topics": ["extra"]})
    unlisted = kinesis_settings(settings).unlisted_topics
    assert {"analytics-results", "analytics-alerts", "analytics-late-events", "analytics-errors"} <= unlisted
    assert {"my-alerts", "extra"} <= unlisted
    assert kinesis_settings(settings).port == settings.kinesis.port
