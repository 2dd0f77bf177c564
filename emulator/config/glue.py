"""Settings of the Glue Data Catalog served on the edge endpoint (``Settings.kinesis.glue``; env
``KEMU_KINESIS__GLUE__*``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from emulator.names import TOPIC_PATTERN


class GlueSettings(BaseModel):
    """Where the catalog keeps its databases, tables, partitions and crawlers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Compacted topic holding the whole catalog, one record per database, table, partition and crawler.
    catalog_topic: str = Field(default="kemu-glue-catalog", pattern=TOPIC_PATTERN)
