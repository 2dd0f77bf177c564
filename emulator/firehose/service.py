"""The Firehose operations: one method per operation; each delivery stream's delivery is a :mod:`sinks` task.

DirectPut streams write to their backing topic (``kemu-firehose-direct-<name>``) with ``acks=all`` before
answering, so an acknowledged record is durable in Kafka and the sink delivers it exactly once. KinesisStreamAsSource
streams read the Kinesis stream's topic directly, starting at its end when created (as Firehose starts at LATEST).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import NewTopic
from aiokafka.structs import TopicPartition

from emulator.aws.admission import InFlightBudget
from emulator.aws.errors import (
    InvalidArgumentException,
    LimitExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
    ServiceUnavailableException,
)
from emulator.aws.protocol import AwsTimestamp
from emulator.aws.writer import KafkaWriter, NotWritten
from emulator.clock import now_ms
from emulator.config.firehose import FirehoseSettings
from emulator.config.kinesis import InFlightLimit
from emulator.firehose.delivery import Delivery
from emulator.firehose.lake import CatalogUnavailable, TableCatalog, TableRef, location_prefix, registration_target
from emulator.firehose.shapes import (
    CreateDeliveryStreamInput,
    DeliveryStreamInput,
    ListDeliveryStreamsInput,
    PutRecordBatchInput,
    PutRecordInput,
)
from emulator.firehose.store import DeliveryStreamState, DeliveryStreamStore, direct_put_topic
from emulator.supervision import RestartBackoff, Supervisor
from emulator.topics import TopicPolicy
from sinks import DeliveryStreamConfig, FieldType, S3Connection, make_s3_client, retry_kafka
from sinks.delivery import OnWrite

log = logging.getLogger(__name__)

DEFAULT_IN_FLIGHT = InFlightLimit()


def record_id(partition: int, offset: int) -> str:
    """An opaque RecordId that still says where the record is in Kafka (partition and offset, in hex)."""
    return f"{partition:04x}{offset:016x}"


def batch_responses(results: Sequence[int | BaseException], partition: int) -> tuple[int, list[dict[str, str]]]:
    """PutRecordBatch's ``FailedPutCount`` and ``RequestResponses`` from the per-record outcomes."""
    responses: list[dict[str, str]] = []
    failed = 0
    for outcome in results:
        if isinstance(outcome, BaseException):
            failed += 1
            responses.append(
                {
                    "ErrorCode": "ServiceUnavailableException",
                    "ErrorMessage": f"Kafka did not take the record: {outcome}",
                }
            )
        else:
            responses.append({"RecordId": record_id(partition, outcome)})
    return failed, responses


class FirehoseService:
    """Firehose on Kafka and S3. ``start()`` reads back the saved delivery streams and starts their delivery."""

    def __init__(
        self,
        settings: FirehoseSettings,
        bootstrap_servers: str,
        s3: S3Connection | None,
        *,
        region: str = "us-east-1",
        account_id: str = "000000000000",
        policy: TopicPolicy | None = None,
        budget: InFlightBudget | None = None,
        tables: TableCatalog | None = None,
    ) -> None:
        """``tables`` is the data catalog of ``SchemaConfiguration`` and of the ``kemu:catalog-table`` tag."""
        self.settings = settings
        self._tables = tables
        self._policy = policy or TopicPolicy.of(settings.metadata_topic)
        #: Shared with the Kinesis API by the endpoint; on its own (tests), a default one.
        self._budget = budget or InFlightBudget(DEFAULT_IN_FLIGHT.records, DEFAULT_IN_FLIGHT.bytes)
        self._bootstrap = bootstrap_servers
        self._s3 = s3
        self._region = region
        self._account_id = account_id
        self._writer = KafkaWriter(bootstrap_servers)
        self._store = DeliveryStreamStore(bootstrap_servers, self._writer, settings.metadata_topic)
        # Each delivery stream's delivery is a supervised component, restarted after a fixed pause when it fails.
        delay = settings.restart_delay_s
        self._supervisor = Supervisor(
            backoff=RestartBackoff(initial_s=delay, factor=1.0, maximum_s=delay), stop_timeout_s=60.0
        )
        self._deliveries: dict[str, Delivery] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._next_partition = 0

    async def start(self) -> None:
        await self._writer.start()
        await self._supervisor.start()
        for stream in await self._store.start():
            refusal = self._refusal(stream)
            if refusal is not None:
                log.warning("delivery stream %s is not delivered: %s", stream.name, refusal)
                stream.failure = f"{refusal}; delivery is not running"
                stream.status = "ACTIVE"
                continue
            self._start_delivery(stream)

    def _refusal(self, stream: DeliveryStreamState) -> str | None:
        """Why a saved delivery stream cannot be delivered (None when it can): no S3, a sealed source (saved before
        the rule sealed it), or a destination the sink refuses."""
        if self._s3 is None:
            return "no S3 target configured for this endpoint"
        if stream.stream_type != "DirectPut" and self._policy.is_sealed(stream.source_topic):
            return f"its source {stream.source_topic} is an internal topic; delete this delivery stream"
        try:
            self._sink_config(stream)
        except ValueError as exc:
            return f"its destination is refused: {_first_line(exc)}"
        return None

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._supervisor.stop()
        self._deliveries.clear()
        await self._store.stop()
        await self._writer.stop()

    def arn(self, name: str) -> str:
        return f"arn:aws:firehose:{self._region}:{self._account_id}:deliverystream/{name}"

    def _get_or_raise_not_found(self, name: str) -> DeliveryStreamState:
        stream = self._store.streams.get(name)
        if stream is None:
            raise ResourceNotFoundException(f"Firehose {name} under account {self._account_id} not found.")
        return stream

    def _background(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- control plane -----------------------------------------------------------------------------------------

    async def create_delivery_stream(self, request: CreateDeliveryStreamInput) -> dict[str, Any]:
        if request.name in self._store.streams:
            raise ResourceInUseException(f"Firehose {request.name} under accountId {self._account_id} already exists")
        if len(self._store.streams) >= self.settings.delivery_stream_limit:
            raise LimitExceededException(
                f"You have already consumed your quota of {self.settings.delivery_stream_limit} delivery streams."
            )
        if self._s3 is None:
            raise InvalidArgumentException(
                "This kemu endpoint has no S3 target: start it with `kemu up`, or with S3 settings (KEMU_S3__*) or "
                "the embedded services running."
            )
        destination = request.destination
        if request.source_stream is not None:
            source_topic = request.source_stream
            # A sealed topic is answered exactly as a missing stream: the API does not tell which internal ones exist.
            if self._policy.is_sealed(source_topic) or source_topic not in await self._store.topics():
                raise InvalidArgumentException(
                    f"Stream {source_topic} under account {self._account_id} not found (KinesisStreamARN)."
                )
        else:
            source_topic = direct_put_topic(request.name)
        stream = DeliveryStreamState(
            name=request.name,
            stream_type=request.stream_type,
            source_topic=source_topic,
            destination=destination,
            created_ms=now_ms(),
            source_role_arn=request.source_role_arn,
            tags=request.tags,
        )
        try:
            self._sink_config(stream)
        except ValueError as exc:  # the prefixes or names the sink refuses, worded by the sink
            raise InvalidArgumentException(_first_line(exc)) from None
        try:
            self._catalog_hooks(stream)
        except CatalogUnavailable as exc:
            raise InvalidArgumentException(f"{exc}.") from None
        await self._check_bucket(destination.bucket)
        if request.name in self._store.streams:  # created by a concurrent call while this one checked
            raise ResourceInUseException(f"Firehose {request.name} under accountId {self._account_id} already exists")
        self._store.streams[request.name] = stream
        self._background(self._finish_create(stream))
        return {"DeliveryStreamARN": self.arn(request.name)}

    async def _check_bucket(self, bucket: str) -> None:
        assert self._s3 is not None  # noqa: S101 - create_delivery_stream checked it
        client = make_s3_client(self._s3)
        try:
            await asyncio.to_thread(client.head_bucket, Bucket=bucket)
        except Exception as exc:
            raise InvalidArgumentException(f"BucketARN: bucket {bucket} is not reachable: {exc}") from None

    async def _finish_create(self, stream: DeliveryStreamState) -> None:
        try:
            # A DirectPut topic left by an earlier stream of the same name (Kafka deletes topics asynchronously)
            # must not be delivered again: like a Kinesis source, it is delivered from its current end.
            if stream.stream_type != "DirectPut" or await self._create_topic(stream.source_topic):
                await self._start_at_latest(stream)
            await self._store.save(stream)
        except Exception as exc:
            log.exception("creating delivery stream %s failed", stream.name)
            stream.status = "CREATING_FAILED"
            stream.failure = f"creating the delivery stream failed: {exc}"
            return
        self._start_delivery(stream)

    async def _create_topic(self, topic: str) -> bool:
        """Create the backing topic and wait until it is writable; True when it existed already."""
        existed = topic in await self._store.topics()
        if not existed:
            partitions = self.settings.direct_put_partitions
            with contextlib.suppress(Exception):  # exists already (a stream of the same name, deleted and recreated)
                await self._store.admin.create_topics(
                    [NewTopic(topic, partitions, 1, topic_configs={"message.timestamp.type": "LogAppendTime"})]
                )
        for _ in range(200):  # usable once the producer sees its partitions with a leader
            if await self._writer.partitions_of(topic):
                break
            await asyncio.sleep(0.05)
        return existed

    async def _start_at_latest(self, stream: DeliveryStreamState) -> None:
        """Commit the source topic's end offsets for the new consumer group: delivery starts at LATEST."""
        described = await self._store.admin.describe_topics([stream.source_topic])
        tps = [TopicPartition(stream.source_topic, p["partition"]) for p in described[0]["partitions"]]
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, group_id=stream.consumer_group, enable_auto_commit=False
        )
        try:
            await consumer.start()
            consumer.assign(tps)
            ends = await consumer.end_offsets(tps)
            await retry_kafka(lambda: consumer.commit(dict(ends)))
        finally:
            await consumer.stop()

    def _sink_config(self, stream: DeliveryStreamState) -> DeliveryStreamConfig:
        destination = stream.destination
        return DeliveryStreamConfig(
            name=stream.name,
            source_topic=stream.source_topic,
            bucket=destination.bucket,
            prefix=destination.prefix,
            error_output_prefix=destination.error_output_prefix,
            buffering=destination.buffering,
            compression=destination.sink_compression,
            consumer_group=stream.consumer_group,
        )

    def _catalog_hooks(self, stream: DeliveryStreamState) -> tuple[dict[str, FieldType], OnWrite | None]:
        """The columns SchemaConfiguration's table declares (empty: inferred) and the callback that registers the
        stream's objects when its ``kemu:catalog-table`` tag asks for it; :class:`CatalogUnavailable` when the
        catalog cannot give them."""
        schema_table = stream.destination.schema_table
        target = registration_target(stream.tags)
        if (schema_table is not None or target is not None) and self._tables is None:
            raise CatalogUnavailable("this endpoint has no data catalog (Glue) for SchemaConfiguration or the tag")
        fields: dict[str, FieldType] = {}
        if schema_table is not None and self._tables is not None:
            fields = self._tables.columns(TableRef(*schema_table))
        on_write = None
        if target is not None and self._tables is not None:
            destination = stream.destination
            on_write = self._tables.registrar(
                target, stream.name, destination.bucket, location_prefix(destination.prefix)
            )
        return fields, on_write

    def _start_delivery(self, stream: DeliveryStreamState) -> None:
        assert self._s3 is not None  # noqa: S101 - streams are only created with an S3 target
        delivery = Delivery(
            stream, self._sink_config(stream), self._bootstrap, self._s3, self.settings.poll_timeout_ms,
            lambda: self._catalog_hooks(stream),
        )  # fmt: skip
        self._deliveries[stream.name] = delivery
        self._supervisor.add(delivery)

    async def _stop_delivery(self, name: str) -> None:
        """Stop a delivery; it writes what it has buffered first (nothing acknowledged is left behind)."""
        if self._deliveries.pop(name, None) is not None:
            await self._supervisor.remove(name)

    async def delete_delivery_stream(self, request: DeliveryStreamInput) -> dict[str, Any]:
        stream = self._get_or_raise_not_found(request.name)
        if stream.status == "DELETING":
            return {}
        if stream.status == "CREATING":
            raise ResourceInUseException(
                f"Firehose {request.name} under accountId {self._account_id} is CREATING; it can be deleted once "
                "ACTIVE or CREATING_FAILED."
            )
        stream.status = "DELETING"
        self._background(self._finish_delete(stream))
        return {}

    async def _finish_delete(self, stream: DeliveryStreamState) -> None:
        await self._stop_delivery(stream.name)
        if stream.stream_type == "DirectPut":
            with contextlib.suppress(Exception):
                await self._store.admin.delete_topics([stream.source_topic])
        await self._store.remove(stream.name)

    async def describe_delivery_stream(self, request: DeliveryStreamInput) -> dict[str, Any]:
        stream = self._get_or_raise_not_found(request.name)
        destination = stream.destination
        s3_description: dict[str, Any] = {
            "RoleARN": destination.role_arn,
            "BucketARN": f"arn:aws:s3:::{destination.bucket}",
            "Prefix": destination.prefix,
            "BufferingHints": {
                "SizeInMBs": destination.buffering.size_mib,
                "IntervalInSeconds": destination.buffering.interval_s,
            },
            "CompressionFormat": destination.compression_format,
            "EncryptionConfiguration": {"NoEncryptionConfig": "NoEncryption"},
            "S3BackupMode": "Disabled",
        }
        if destination.error_output_prefix is not None:
            s3_description["ErrorOutputPrefix"] = destination.error_output_prefix
        if destination.parquet_compression is not None:
            s3_description["DataFormatConversionConfiguration"] = {
                "Enabled": True,
                "OutputFormatConfiguration": {
                    "Serializer": {"ParquetSerDe": {"Compression": destination.parquet_compression}}
                },
            }
            if destination.schema_table is not None:
                database, table = destination.schema_table
                s3_description["DataFormatConversionConfiguration"]["SchemaConfiguration"] = {
                    "DatabaseName": database,
                    "TableName": table,
                    "VersionId": "LATEST",
                }
        description: dict[str, Any] = {
            "DeliveryStreamName": stream.name,
            "DeliveryStreamARN": self.arn(stream.name),
            "DeliveryStreamStatus": stream.status,
            "DeliveryStreamType": stream.stream_type,
            "VersionId": "1",
            "CreateTimestamp": AwsTimestamp(stream.created_ms),
            "Destinations": [
                {"DestinationId": "destinationId-000000000001", "ExtendedS3DestinationDescription": s3_description}
            ],
            "HasMoreDestinations": False,
        }
        if stream.stream_type == "KinesisStreamAsSource":
            source_arn = f"arn:aws:kinesis:{self._region}:{self._account_id}:stream/{stream.source_topic}"
            description["Source"] = {
                "KinesisStreamSourceDescription": {
                    "KinesisStreamARN": source_arn,
                    "RoleARN": stream.source_role_arn or "",
                    "DeliveryStartTimestamp": AwsTimestamp(stream.created_ms),
                }
            }
        # Once the attempt after a failure has written, delivery is healthy again.
        running = self._deliveries.get(stream.name)
        if stream.failure is not None and running is not None and running.healthy_again():
            stream.failure = None
        if stream.failure is not None:
            description["FailureDescription"] = {"Type": "UNKNOWN_ERROR", "Details": stream.failure}
        return {"DeliveryStreamDescription": description}

    async def list_delivery_streams(self, request: ListDeliveryStreamsInput) -> dict[str, Any]:
        names = sorted(
            name
            for name, stream in self._store.streams.items()
            if request.stream_type is None or stream.stream_type == request.stream_type
        )
        if request.exclusive_start is not None:
            names = [name for name in names if name > request.exclusive_start]
        return {"DeliveryStreamNames": names[: request.limit], "HasMoreDeliveryStreams": len(names) > request.limit}

    # --- data plane --------------------------------------------------------------------------------------------

    def _writable(self, name: str) -> DeliveryStreamState:
        stream = self._get_or_raise_not_found(name)
        if stream.stream_type != "DirectPut":
            raise InvalidArgumentException(
                f"This operation is not permitted on KinesisStreamAsSource delivery stream type. "
                f"Write to the Kinesis stream {stream.source_topic} instead."
            )
        if stream.status != "ACTIVE":
            raise ResourceNotFoundException(f"Firehose {name} under account {self._account_id} is {stream.status}.")
        return stream

    def _partition(self) -> int:
        """Calls spread round-robin over the backing topic's partitions; one call's records stay together."""
        self._next_partition = (self._next_partition + 1) % self.settings.direct_put_partitions
        return self._next_partition

    async def put_record(self, request: PutRecordInput) -> dict[str, Any]:
        stream = self._writable(request.name)
        partition = self._partition()
        [outcome] = await self._write(stream.source_topic, partition, [request.data])
        if isinstance(outcome, BaseException):
            raise ServiceUnavailableException(f"Kafka did not take the record: {outcome}. Retry the call.")
        return {"RecordId": record_id(partition, outcome), "Encrypted": False}

    async def put_record_batch(self, request: PutRecordBatchInput) -> dict[str, Any]:
        stream = self._writable(request.name)
        partition = self._partition()
        failed, responses = batch_responses(
            await self._write(stream.source_topic, partition, request.records), partition
        )
        return {"FailedPutCount": failed, "Encrypted": False, "RequestResponses": responses}

    async def _write(self, topic: str, partition: int, records: list[bytes]) -> list[int | BaseException]:
        """Write what the in-flight budget admits; the others are refused at once (retryable, never written)."""
        outcomes: list[int | BaseException] = [0] * len(records)
        admitted: list[int] = []
        taken = 0
        for index, data in enumerate(records):
            if self._budget.try_take(len(data)):
                admitted.append(index)
                taken += len(data)
            else:
                outcomes[index] = NotWritten(
                    f"the endpoint has {self._budget.records} records in flight to Kafka (rate exceeded)"
                )
        try:
            written = (
                await self._writer.write(topic, [(partition, b"", records[i]) for i in admitted]) if admitted else []
            )
        finally:
            self._budget.give_back(len(admitted), taken)
        for index, outcome in zip(admitted, written, strict=True):
            outcomes[index] = outcome
        return outcomes


def _first_line(exc: Exception) -> str:
    """A pydantic error's message without its URL footer."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip() and "errors.pydantic.dev" not in line]
    return " ".join(lines[-2:]) if lines else str(exc)
