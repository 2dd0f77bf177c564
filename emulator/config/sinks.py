"""Settings of the Firehose-like delivery streams (``[[sinks.delivery_streams]]`` in the TOML config file)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from emulator.names import GLUE_TABLE_REF_RE
from sinks import BufferingHints, DeliveryStreamConfig


def default_delivery_streams() -> list[DeliveryStreamConfig]:
    """One delivery stream per default Kinesis stream, Hive-style by day and hour of arrival."""
    return [
        DeliveryStreamConfig(
            name=f"{topic}-to-s3",
            source_topic=topic,
            prefix=f"firehose/{topic}/dt=!{{timestamp:yyyy-MM-dd}}/hour=!{{timestamp:HH}}/",
            error_output_prefix=f"firehose-errors/{topic}/!{{firehose:error-output-type}}/dt=!{{timestamp:yyyy-MM-dd}}/",
            buffering=BufferingHints(size_mib=5, interval_s=60),
        )
        for topic in ("clickstream", "game-events", "iot-telemetry")
    ]


class SinksSettings(BaseModel):
    """The delivery streams ``kemu sink run`` can run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    delivery_streams: list[DeliveryStreamConfig] = Field(default_factory=default_delivery_streams)
    #: Longest wait for new records in one poll, in milliseconds (also how often the interval hint is checked).
    poll_timeout_ms: int = Field(default=200, ge=10, le=5000)
    #: Delivery stream name → ``database.table`` of the Glue catalog it registers its objects in as it writes
    #: (the table and database are created on the first write; new partitions and columns added with each).
    catalog_tables: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_names(self) -> SinksSettings:
        names = [stream.name for stream in self.delivery_streams]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"delivery stream names must be unique; repeated: {', '.join(duplicates)}")
        for stream, table in self.catalog_tables.items():
            if stream not in names:
                raise ValueError(f"catalog_tables names {stream!r}, which is not a delivery stream")
            if GLUE_TABLE_REF_RE.fullmatch(table.strip().lower()) is None:
                raise ValueError(
                    f"catalog_tables.{stream} must be DATABASE.TABLE with Glue names (letters, digits, _ and -), "
                    f"got {table[:120]!r}"
                )
        return self

    def catalog_table(self, stream: str) -> str | None:
        """The ``database.table`` ``stream`` registers its objects in, if any."""
        return self.catalog_tables.get(stream)

    def named(self, names: list[str]) -> list[DeliveryStreamConfig]:
        """The streams called ``names`` (all of them when empty); ``KeyError`` names the first unknown one."""
        if not names:
            return list(self.delivery_streams)
        by_name = {stream.name: stream for stream in self.delivery_streams}
        for name in names:
            if name not in by_name:
                raise KeyError(name)
        return [by_name[name] for name in names]
