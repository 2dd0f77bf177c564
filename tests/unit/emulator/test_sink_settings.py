"""Delivery streams declared in the TOML config file, validated once when the settings load."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from emulator.settings import Settings
from sinks import Compression, FieldType


def load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "kemu.toml"
    path.write_text(text)
    return Settings.load(path)


def test_defaults_deliver_the_three_default_streams() -> None:
    names = [s.source_topic for s in Settings.load().sinks.delivery_streams]
    assert names == ["clickstream", "game-events", "iot-telemetry"]


def test_a_delivery_stream_from_toml(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        """
[[sinks.delivery_streams]]
name = "orders"
source_topic = "orders"
prefix = "orders/dt=!{timestamp:yyyy-MM-dd}/country=!{partitionKeyFromQuery:country}/"
error_output_prefix = "errors/!{firehose:error-output-type}/"
compression = "snappy"
buffering = { size_mib = 64, interval_s = 900 }
schema = { order_id = "string", amount = "double", at = "timestamp" }
""",
    )
    (stream,) = settings.sinks.delivery_streams
    assert stream.compression is Compression.SNAPPY
    assert stream.buffering.size_bytes == 64 * 2**20
    assert stream.schema_fields == {"order_id": FieldType.STRING, "amount": FieldType.DOUBLE, "at": FieldType.TIMESTAMP}
    assert stream.group_id == "kemu-sink-orders"
    assert settings.sinks.named(["orders"]) == [stream]
    with pytest.raises(KeyError):
        settings.sinks.named(["nope"])


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('prefix = "x/!{timestamp:yyyy}/"', "ErrorOutputPrefix can't be null"),
        ("buffering = { size_mib = 200 }", "less than or equal to 128"),
        ('name = "bad/name"', "String should match pattern"),
        ('compression = "gzip"', "Input should be"),
        ('schema = { "bad name" = "string" }', "schema field name"),
    ],
)
def test_invalid_delivery_streams_are_refused_with_a_reason(tmp_path: Path, line: str, message: str) -> None:
    base = {"name": '"s"', "source_topic": '"t"'}
    key = line.split(" ", 1)[0]
    fields = {**base, key: line.split(" = ", 1)[1]}
    text = "[[sinks.delivery_streams]]\n" + "\n".join(f"{k} = {v}" for k, v in fields.items())
    with pytest.raises(ValidationError, match=message):
        load(tmp_path, text)


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    stream = '[[sinks.delivery_streams]]\nname = "s"\nsource_topic = "t"\n'
    with pytest.raises(ValidationError, match="repeated: s"):
        load(tmp_path, stream + stream)
