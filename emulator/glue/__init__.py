"""The Glue Data Catalog on the edge endpoint: databases, tables and partitions kept in a compacted Kafka topic,
crawlers that read Parquet footers from S3, and GetPartitions' expressions."""

from emulator.config.glue import GlueSettings

__all__ = ["GlueSettings"]
