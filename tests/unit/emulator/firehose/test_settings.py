"""Firehose settings nest under the Kinesis ones, and ``kemu kinesis serve`` finds its S3 target in the settings."""

from __future__ import annotations

import pytest

from emulator.endpoints import s3_connection
from emulator.settings import Settings


def test_firehose_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEMU_KINESIS__FIREHOSE__DELIVERY_STREAM_LIMIT", "7")
    monkeypatch.setenv("KEMU_KINESIS__FIREHOSE__METADATA_TOPIC", "my-firehose-metadata")
    firehose = Settings.load().kinesis.firehose
    assert firehose.delivery_stream_limit == 7
    assert firehose.metadata_topic == "my-firehose-metadata"


def test_bad_metadata_topic_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEMU_KINESIS__FIREHOSE__METADATA_TOPIC", "bad/topic")
    with pytest.raises(ValueError, match="metadata_topic"):
        Settings.load()


def test_serve_takes_the_configured_s3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEMU_S3__ENDPOINT_URL", "http://127.0.0.1:9999")
    monkeypatch.setenv("KEMU_S3__ACCESS_KEY_ID", "ak")
    monkeypatch.setenv("KEMU_S3__SECRET_ACCESS_KEY", "sk")
    target = s3_connection(Settings.load())
    assert target is not None
    assert target.endpoint_url == "http://127.0.0.1:9999"
    assert target.access_key_id == "ak"
    assert target.secret_access_key is not None
    assert target.secret_access_key.get_secret_value() == "sk"
