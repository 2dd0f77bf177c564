"""Settings of the Kinesis HTTP API (``Settings.kinesis``; env ``KEMU_KINESIS__*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from emulator.config.athena import AthenaSettings
from emulator.config.firehose import FirehoseSettings
from emulator.config.glue import GlueSettings
from emulator.names import TOPIC_PATTERN


class ShardWriteLimit(BaseModel):
    """Per-shard write throttling, as Kinesis provisions it (1,000 records/s and 1 MiB/s per shard)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    records_per_second: int = Field(default=1000, ge=1)
    bytes_per_second: int = Field(default=1024 * 1024, ge=1)


class InFlightLimit(BaseModel):
    """How much the endpoint (Kinesis and Firehose together) has on its way to Kafka at once. A record beyond it is
    refused at once with ProvisionedThroughputExceededException (Firehose: ServiceUnavailableException), which
    clients retry, instead of queueing until the Kafka client times out."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    records: int = Field(default=100_000, ge=1)
    bytes: int = Field(default=128 * 1024 * 1024, ge=1)


class KinesisSettings(BaseModel):
    """Where the Kinesis endpoint listens and how strictly it behaves."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=4566, ge=0, le=65535)
    #: A second port serving the same endpoint over TLS (ALPN h2 and http/1.1) with a local certificate; off if unset.
    tls_port: int | None = Field(default=None, ge=0, le=65535)
    #: Where the TLS port's CA, certificate and key are kept (made on first use); ``<services.run_dir>/tls`` if unset.
    tls_dir: Path | None = None
    region: str = Field(default="us-east-1", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    account_id: str = Field(default="000000000000", pattern=r"^\d{12}$")
    #: Check SigV4 signatures against ``access_key_id`` / ``secret_access_key``; off accepts any signature.
    verify_signatures: bool = False
    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None
    #: How long a shard iterator stays valid (Kinesis: 5 minutes).
    iterator_ttl_s: float = Field(default=300.0, gt=0)
    #: How long a new stream stays CREATING before it turns ACTIVE (on top of the topic creation itself).
    create_delay_s: float = Field(default=0.0, ge=0, le=60)
    #: Total shards over all streams created through the API (the Kinesis account shard quota).
    shard_limit: int = Field(default=500, ge=1)
    #: Throttle writes per shard like provisioned Kinesis; off by default so local loads run at Kafka speed.
    shard_write_limit: ShardWriteLimit | None = None
    #: Records and bytes written to Kafka but not yet acknowledged, at most; beyond, writes are refused retryably.
    in_flight: InFlightLimit = InFlightLimit()
    #: Compacted topic holding what Kafka cannot (tags, retention hours, creation time) so it survives restarts.
    metadata_topic: str = Field(default="kemu-kinesis-metadata", pattern=TOPIC_PATTERN)
    #: Topics ListStreams leaves out, though they stay readable by name: kemu's analytics outputs (results, alerts,
    #: late events, errors), which ``kemu kinesis serve`` and ``kemu up`` fill in from the analytics settings.
    unlisted_topics: frozenset[str] = frozenset()
    #: List ``unlisted_topics`` in ListStreams too.
    list_unlisted_topics: bool = False
    #: How long a SubscribeToShard subscription pushes events before the client must subscribe again (AWS: 5 minutes).
    subscription_lifetime_s: float = Field(default=300.0, gt=0, le=3600)
    #: Longest GetRecords waits for data it knows is there (it never waits at the tip of a shard).
    fetch_wait_s: float = Field(default=1.0, gt=0, le=10)
    #: The Firehose API served on the same endpoint (``Firehose_20150804.*`` targets).
    firehose: FirehoseSettings = FirehoseSettings()
    #: The Glue Data Catalog served on the same endpoint (``AWSGlue.*`` targets).
    glue: GlueSettings = GlueSettings()
    #: Athena served on the same endpoint (``AmazonAthena.*`` targets), querying the Glue catalog's tables.
    athena: AthenaSettings = AthenaSettings()

    def with_result_bucket(self, bucket: str) -> KinesisSettings:
        """These settings with Athena's default output location in ``bucket`` unless one is configured."""
        if self.athena.output_location is not None:
            return self
        athena = self.athena.model_copy(update={"output_location": f"s3://{bucket}/athena-results/"})
        return self.model_copy(update={"athena": athena})
