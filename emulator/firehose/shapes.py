"""Typed requests of the Firehose operations, parsed with AWS's shape constraints (:mod:`emulator.aws.shapes`; the
static limits from botocore's model of Firehose).

A member of the wrong type is a ``SerializationException``; one that breaks its constraint is a
``ValidationException``; a valid request kemu cannot serve (another destination, a source it does not have) is an
``InvalidArgumentException`` that says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from emulator.aws.arns import STREAM_ARN_RE
from emulator.aws.compacted import typed_member
from emulator.aws.errors import InvalidArgumentException, validation_error
from emulator.aws.model import limits, maximum
from emulator.aws.shapes import Wire, opt_enum, opt_int, opt_list, opt_map, opt_str, req_list, req_str
from emulator.names import MAX_DELIVERY_STREAM_NAME, NAME_RE
from sinks import BufferingHints, Compression

BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
BUCKET_ARN_RE = re.compile(rf"arn:aws[a-z-]*:s3:::({BUCKET_RE.pattern})")
STREAM_TYPES = ("DirectPut", "KinesisStreamAsSource", "MSKAsSource", "DatabaseAsSource")
COMPRESSION_FORMATS = ("UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY")
PARQUET_COMPRESSIONS = ("UNCOMPRESSED", "GZIP", "SNAPPY")
#: Firehose's limits: a record's data before base64, records and bytes per PutRecordBatch (the model states no
#: request size: 4 MiB is the service's documented quota).
MAX_RECORD_BYTES = maximum("firehose", "Data")
MAX_BATCH_RECORDS = maximum("firehose", "PutRecordBatchRequestEntryList")
MAX_BATCH_BYTES = 4 * 1024 * 1024
MAX_ARN = maximum("firehose", "BucketARN")
MAX_ROLE_ARN = maximum("firehose", "RoleARN")
MAX_PREFIX = maximum("firehose", "Prefix")
MAX_TAG_KEY = maximum("firehose", "TagKey")
MAX_TAG_VALUE = maximum("firehose", "TagValue")
MAX_LIST_LIMIT = maximum("firehose", "ListDeliveryStreamsInputLimit")
SIZE_MIB = limits("firehose", "SizeInMBs")
INTERVAL_S = limits("firehose", "IntervalInSeconds")
#: Destinations Firehose has and kemu does not deliver to.
OTHER_DESTINATIONS = (
    "RedshiftDestinationConfiguration",
    "ElasticsearchDestinationConfiguration",
    "AmazonopensearchserviceDestinationConfiguration",
    "SplunkDestinationConfiguration",
    "HttpEndpointDestinationConfiguration",
    "AmazonOpenSearchServerlessDestinationConfiguration",
    "SnowflakeDestinationConfiguration",
    "IcebergDestinationConfiguration",
)


def _name(body: dict[str, Any]) -> str:
    return req_str(body, "DeliveryStreamName", max_len=MAX_DELIVERY_STREAM_NAME, pattern=NAME_RE)


@dataclass(frozen=True, slots=True)
class S3DestinationConfig:
    """An ExtendedS3 (or plain S3) destination, reduced to what the sink does with it."""

    bucket: str
    role_arn: str
    prefix: str
    error_output_prefix: str | None
    buffering: BufferingHints
    compression_format: str
    #: The ParquetSerDe compression when data format conversion is enabled, else None.
    parquet_compression: str | None
    #: SchemaConfiguration's (DatabaseName, TableName): the catalog table whose columns the Parquet has.
    schema_table: tuple[str, str] | None = None

    @property
    def sink_compression(self) -> Compression:
        """Parquet page compression: the SerDe's when converting, else the CompressionFormat's."""
        chosen = self.parquet_compression or self.compression_format
        return Compression.SNAPPY if chosen in ("SNAPPY", "Snappy", "HADOOP_SNAPPY") else Compression.NONE

    def to_record(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "role_arn": self.role_arn,
            "prefix": self.prefix,
            "error_output_prefix": self.error_output_prefix,
            "size_mib": self.buffering.size_mib,
            "interval_s": self.buffering.interval_s,
            "compression_format": self.compression_format,
            "parquet_compression": self.parquet_compression,
            "schema_table": None if self.schema_table is None else list(self.schema_table),
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> S3DestinationConfig:
        """The destination saved by :meth:`to_record`; KeyError, TypeError or ValueError for anything else."""
        bucket = typed_member(record, "bucket", str)
        if not BUCKET_RE.fullmatch(bucket):
            raise ValueError(f"{bucket!r} is not a bucket name")
        error_prefix = record.get("error_output_prefix")
        parquet = record.get("parquet_compression")
        compression = typed_member(record, "compression_format", str, "UNCOMPRESSED")
        if compression not in COMPRESSION_FORMATS or parquet not in (None, *PARQUET_COMPRESSIONS):
            raise ValueError(f"unknown compression {compression!r} / {parquet!r}")
        table = record.get("schema_table")
        if table is not None and not (
            isinstance(table, list) and len(table) == 2 and all(isinstance(t, str) for t in table)
        ):
            raise ValueError(f"{table!r} is not a (database, table) pair")
        return cls(
            bucket=bucket,
            role_arn=typed_member(record, "role_arn", str, ""),
            prefix=typed_member(record, "prefix", str, ""),
            error_output_prefix=None if error_prefix is None else typed_member(record, "error_output_prefix", str),
            buffering=BufferingHints(
                size_mib=typed_member(record, "size_mib", int), interval_s=typed_member(record, "interval_s", int)
            ),
            compression_format=compression,
            parquet_compression=parquet,
            schema_table=None if table is None else (table[0], table[1]),
        )

    @classmethod
    def parse(cls, body: dict[str, Any], member: str, extended: bool) -> S3DestinationConfig:
        bucket_arn = req_str(body, "BucketARN", max_len=MAX_ARN)
        match = BUCKET_ARN_RE.fullmatch(bucket_arn)
        if match is None:
            raise validation_error(
                bucket_arn, f"{member}.bucketARN", f"Member must satisfy regular expression pattern: {BUCKET_ARN_RE}"
            )
        hints = opt_map(body, "BufferingHints") or {}
        size = opt_int(hints, "SizeInMBs", low=SIZE_MIB.min or 1, high=SIZE_MIB.max)
        interval = opt_int(hints, "IntervalInSeconds", low=INTERVAL_S.min or 0, high=INTERVAL_S.max)
        compression = opt_enum(body, "CompressionFormat", COMPRESSION_FORMATS) or "UNCOMPRESSED"
        conversion = opt_map(body, "DataFormatConversionConfiguration") if extended else None
        parquet = _parquet_compression(conversion)
        schema_table = _schema_table(conversion) if parquet is not None else None
        if parquet is not None and compression != "UNCOMPRESSED":
            raise InvalidArgumentException(
                "CompressionFormat must be UNCOMPRESSED when data format conversion is enabled; set the Parquet "
                "compression in the ParquetSerDe instead."
            )
        if parquet == "GZIP" or compression in ("GZIP", "ZIP"):
            raise InvalidArgumentException(
                "kemu writes Parquet with SNAPPY or no page compression; GZIP and ZIP are not supported."
            )
        return cls(
            bucket=match.group(1),
            role_arn=opt_str(body, "RoleARN", max_len=MAX_ROLE_ARN) or "",
            prefix=opt_str(body, "Prefix", min_len=0, max_len=MAX_PREFIX) or "",
            error_output_prefix=opt_str(body, "ErrorOutputPrefix", min_len=0, max_len=MAX_PREFIX) or None,
            buffering=BufferingHints(
                size_mib=5 if size is None else size, interval_s=300 if interval is None else interval
            ),
            compression_format=compression,
            parquet_compression=parquet,
            schema_table=schema_table,
        )


def _schema_table(conversion: dict[str, Any] | None) -> tuple[str, str] | None:
    """SchemaConfiguration's database and table (lower case, as Glue keeps them), or None without one."""
    schema = opt_map(conversion or {}, "SchemaConfiguration")
    if schema is None:
        return None
    database = opt_str(schema, "DatabaseName", max_len=1024)
    table = opt_str(schema, "TableName", max_len=1024)
    if database is None or table is None:
        raise InvalidArgumentException("SchemaConfiguration needs both DatabaseName and TableName.")
    return database.lower(), table.lower()


def _parquet_compression(conversion: dict[str, Any] | None) -> str | None:
    """The ParquetSerDe compression of an enabled conversion (SNAPPY by default, as Firehose); None when off."""
    if conversion is None or conversion.get("Enabled") is False:
        return None
    output = opt_map(conversion, "OutputFormatConfiguration") or {}
    serializer = opt_map(output, "Serializer") or {}
    if "OrcSerDe" in serializer:
        raise InvalidArgumentException("kemu converts records to Parquet only; OrcSerDe is not supported.")
    serde = opt_map(serializer, "ParquetSerDe") or {}
    return opt_enum(serde, "Compression", PARQUET_COMPRESSIONS) or "SNAPPY"


@dataclass(frozen=True, slots=True)
class CreateDeliveryStreamInput:
    name: str
    stream_type: str
    #: The Kinesis stream read by a KinesisStreamAsSource delivery stream, and the role it names.
    source_stream: str | None
    source_role_arn: str | None
    destination: S3DestinationConfig
    tags: dict[str, str]

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> CreateDeliveryStreamInput:
        name = _name(body)
        stream_type = opt_enum(body, "DeliveryStreamType", STREAM_TYPES) or "DirectPut"
        if stream_type not in ("DirectPut", "KinesisStreamAsSource"):
            raise InvalidArgumentException(
                f"DeliveryStreamType {stream_type} is not supported by kemu; use DirectPut or KinesisStreamAsSource."
            )
        source = opt_map(body, "KinesisStreamSourceConfiguration")
        source_stream = source_role = None
        if stream_type == "KinesisStreamAsSource":
            if source is None:
                raise InvalidArgumentException(
                    "KinesisStreamSourceConfiguration is required for a KinesisStreamAsSource delivery stream."
                )
            arn = req_str(source, "KinesisStreamARN", max_len=MAX_ROLE_ARN)
            match = STREAM_ARN_RE.fullmatch(arn)
            if match is None:
                raise InvalidArgumentException(f"KinesisStreamARN {arn} is not a Kinesis stream ARN.")
            source_stream = match.group(1)
            source_role = opt_str(source, "RoleARN", max_len=MAX_ROLE_ARN)
        elif source is not None:
            raise InvalidArgumentException(
                "KinesisStreamSourceConfiguration is only valid with DeliveryStreamType KinesisStreamAsSource."
            )
        for other in OTHER_DESTINATIONS:
            if other in body:
                raise InvalidArgumentException(
                    f"{other} is not supported by kemu; use ExtendedS3DestinationConfiguration."
                )
        extended = opt_map(body, "ExtendedS3DestinationConfiguration")
        plain = opt_map(body, "S3DestinationConfiguration")
        if (extended is None) == (plain is None):
            raise InvalidArgumentException(
                "Exactly one destination is required: ExtendedS3DestinationConfiguration "
                "(or S3DestinationConfiguration)."
            )
        if extended is not None:
            destination = S3DestinationConfig.parse(extended, "extendedS3DestinationConfiguration", True)
        else:
            destination = S3DestinationConfig.parse(plain or {}, "s3DestinationConfiguration", False)
        tags: dict[str, str] = {}
        for index, tag in enumerate(opt_list(body, "Tags") or []):
            if not isinstance(tag, dict):
                raise validation_error(tag, f"tags.{index + 1}", "Member must be a structure")
            value = opt_str(tag, "Value", min_len=0, max_len=MAX_TAG_VALUE)
            tags[req_str(tag, "Key", max_len=MAX_TAG_KEY)] = value or ""
        return cls(name, stream_type, source_stream, source_role, destination, tags)


@dataclass(frozen=True, slots=True)
class DeliveryStreamInput:
    """DescribeDeliveryStream and DeleteDeliveryStream (their other members change nothing here)."""

    name: str

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> DeliveryStreamInput:
        return cls(_name(body))


@dataclass(frozen=True, slots=True)
class ListDeliveryStreamsInput:
    limit: int
    stream_type: str | None
    exclusive_start: str | None

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> ListDeliveryStreamsInput:
        return cls(
            opt_int(body, "Limit", low=1, high=MAX_LIST_LIMIT) or 10,
            opt_enum(body, "DeliveryStreamType", STREAM_TYPES),
            opt_str(body, "ExclusiveStartDeliveryStreamName", max_len=MAX_DELIVERY_STREAM_NAME, pattern=NAME_RE),
        )


def _data(record: object, wire: Wire, member: str) -> bytes:
    if not isinstance(record, dict):
        raise validation_error(record, member, "Member must be a structure")
    raw = record.get("Data")
    if raw is None:
        raise validation_error(None, f"{member}.data", "Member must not be null")
    data = wire.blob(raw, "Data")
    if len(data) > MAX_RECORD_BYTES:
        raise validation_error(
            f"<{len(data)} bytes>",
            f"{member}.data",
            f"Member must have length less than or equal to {MAX_RECORD_BYTES}",
        )
    return data


@dataclass(frozen=True, slots=True)
class PutRecordInput:
    name: str
    data: bytes

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> PutRecordInput:
        name = _name(body)
        record = body.get("Record")
        if record is None:
            raise validation_error(None, "record", "Member must not be null")
        return cls(name, _data(record, wire, "record"))


@dataclass(frozen=True, slots=True)
class PutRecordBatchInput:
    name: str
    records: list[bytes]

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> PutRecordBatchInput:
        name = _name(body)
        entries = req_list(body, "Records", max_items=MAX_BATCH_RECORDS)
        records = [_data(entry, wire, f"records.{index + 1}.member") for index, entry in enumerate(entries)]
        total = sum(map(len, records))
        if total > MAX_BATCH_BYTES:
            raise InvalidArgumentException(
                f"Records size {total} bytes exceeds the PutRecordBatch limit of {MAX_BATCH_BYTES} bytes (4 MiB)."
            )
        return cls(name, records)
