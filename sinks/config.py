"""Typed configuration of delivery streams, as the composition root passes it in (no environment reads here)."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from foundation.names import DELIVERY_STREAM_NAME_PATTERN, TOPIC_PATTERN
from sinks.prefixes import validate_prefixes

FIELD_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"


class Compression(StrEnum):
    """Parquet page compression."""

    ZSTD = "zstd"
    SNAPPY = "snappy"
    NONE = "none"


class FieldType(StrEnum):
    """Column types of a declared (or inferred) schema, with the JSON values each accepts.

    ``json`` keeps a nested object or array as its JSON text; ``timestamp`` parses ISO-8601 strings into
    ``timestamp[ms, UTC]`` (declared schemas only: inference keeps strings as strings so nothing is reinterpreted).
    """

    STRING = "string"
    BIGINT = "bigint"
    DOUBLE = "double"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"
    JSON = "json"


class BufferingHints(BaseModel):
    """Firehose's buffering hints: an object is written when either is reached, whichever comes first."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    size_mib: int = Field(default=5, ge=1, le=128)
    interval_s: int = Field(default=300, ge=0, le=900)

    @property
    def size_bytes(self) -> int:
        return self.size_mib * 1024 * 1024


class S3Connection(BaseModel):
    """Where the objects go. Built by the emulator from its settings or from the running embedded services."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    endpoint_url: str | None = None
    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None
    region: str = "us-east-1"


class DeliveryStreamConfig(BaseModel):
    """One delivery stream: a source topic delivered as Parquet objects under a Firehose-style key layout."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    name: str = Field(pattern=DELIVERY_STREAM_NAME_PATTERN)
    source_topic: str = Field(pattern=TOPIC_PATTERN)
    #: Destination bucket; empty means the application's default bucket (the emulator fills it in).
    bucket: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    prefix: str = ""
    error_output_prefix: str | None = None
    buffering: BufferingHints = BufferingHints()
    compression: Compression = Compression.ZSTD
    #: Declared columns (Firehose's Glue table); fields not declared are dropped. Empty: inferred from the data.
    schema_fields: dict[str, FieldType] = Field(default_factory=dict, alias="schema")
    #: Kafka consumer group that holds the committed offsets; ``kemu-sink-<name>`` when empty.
    consumer_group: str | None = Field(default=None, pattern=TOPIC_PATTERN)

    @model_validator(mode="after")
    def _check(self) -> DeliveryStreamConfig:
        validate_prefixes(self.prefix, self.error_output_prefix)
        for field in self.schema_fields:
            if not re.fullmatch(FIELD_NAME_PATTERN, field):
                raise ValueError(f"schema field name {field!r} must match {FIELD_NAME_PATTERN}")
        return self

    @property
    def group_id(self) -> str:
        return self.consumer_group or f"kemu-sink-{self.name}"
