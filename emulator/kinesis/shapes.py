"""Typed requests of the Kinesis operations, parsed from a decoded body with AWS's shape constraints.

Every ``parse`` takes the decoded body (a dict from JSON or CBOR) and a :class:`Wire` that knows how that
protocol carries blobs and timestamps; the member readers are :mod:`emulator.aws.shapes`, the static limits come from
botocore's model of Kinesis (:mod:`emulator.aws.model`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulator.aws.arns import STREAM_ARN_RE
from emulator.aws.errors import InvalidArgumentException, SerializationException, validation_error
from emulator.aws.model import enum_values, maximum, pattern
from emulator.aws.shapes import (
    Wire,
    opt_enum,
    opt_int,
    opt_list,
    opt_map,
    opt_str,
    req_enum,
    req_int,
    req_list,
    req_str,
    type_error,
)
from emulator.names import MAX_STREAM_NAME, NAME_RE

STREAM_NAME_RE = NAME_RE
SHARD_ID_RE = NAME_RE
HASH_KEY_RE = pattern("kinesis", "HashKey")
#: AWS's sequence numbers are 56 digits; the model allows up to 129.
SEQUENCE_NUMBER_RE = pattern("kinesis", "SequenceNumber")
ITERATOR_TYPES = ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")
SHARD_FILTER_TYPES = (
    "AFTER_SHARD_ID",
    "AT_TRIM_HORIZON",
    "FROM_TRIM_HORIZON",
    "AT_LATEST",
    "AT_TIMESTAMP",
    "FROM_TIMESTAMP",
)
#: A record's data: kemu keeps Kinesis' classic 1 MiB (the model now allows 10 MiB, for streams configured with a
#: larger UpdateMaxRecordSize, an operation kemu does not serve).
MAX_RECORD_DATA = 1024 * 1024
MAX_RECORDS_PER_PUT = maximum("kinesis", "PutRecordsRequestEntryList")
MAX_PARTITION_KEY = maximum("kinesis", "PartitionKey")
MAX_SHARD_ID = maximum("kinesis", "ShardId")
MAX_ITERATOR = maximum("kinesis", "ShardIterator")
MAX_NEXT_TOKEN = maximum("kinesis", "NextToken")
MAX_STREAM_ARN = maximum("kinesis", "StreamARN")
MAX_TAG_KEY = maximum("kinesis", "TagKey")
MAX_TAG_VALUE = maximum("kinesis", "TagValue")
MAX_TAGS_PER_CALL = maximum("kinesis", "TagKeyList")
MAX_LIST_LIMIT = maximum("kinesis", "ListStreamsInputLimit")
MAX_TAGS_LISTED = maximum("kinesis", "ListTagsForStreamInputLimit")
#: The shard-level metrics a stream can enable (the model's ``MetricsName`` without ``ALL``, which names them all).
SHARD_LEVEL_METRICS = tuple(name for name in enum_values("kinesis", "MetricsName") if name != "ALL")
#: Kinesis' retention range (the model states none: the service checks it).
MIN_RETENTION_HOURS = 24
MAX_RETENTION_HOURS = 8760


def stream_of(body: dict[str, Any], *, required: bool = True) -> str | None:
    """The stream a request names, by ``StreamName`` or ``StreamARN`` (which must agree when both are given)."""
    name = opt_str(body, "StreamName", max_len=MAX_STREAM_NAME, pattern=STREAM_NAME_RE)
    arn = opt_str(body, "StreamARN", max_len=MAX_STREAM_ARN)
    if arn is not None:
        match = STREAM_ARN_RE.fullmatch(arn)
        if match is None:
            raise validation_error(
                arn, "streamARN", f"Member must satisfy regular expression pattern: {STREAM_ARN_RE.pattern}"
            )
        if name is not None and name != match.group(1):
            raise InvalidArgumentException(f"StreamARN {arn} and StreamName {name} name different streams.")
        name = match.group(1)
    if name is None and required:
        raise InvalidArgumentException("Either StreamName or StreamARN should be provided.")
    return name


def _tags(value: dict[str, Any], member: str) -> dict[str, str]:
    if len(value) > MAX_TAGS_PER_CALL:
        raise validation_error(value, member, f"Member must have length less than or equal to {MAX_TAGS_PER_CALL}")
    tags: dict[str, str] = {}
    for key, tag_value in value.items():
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_TAG_KEY:
            raise validation_error(key, member, f"Tag keys must have length between 1 and {MAX_TAG_KEY}")
        if not isinstance(tag_value, str) or len(tag_value) > MAX_TAG_VALUE:
            raise validation_error(tag_value, member, f"Tag values must be strings of length at most {MAX_TAG_VALUE}")
        tags[key] = tag_value
    return tags


#: Besides letters, digits and white space, what AWS allows in tag keys and values ('%' is refused on its own terms).
TAG_PUNCTUATION = frozenset("_./=+-@:")


def tag_characters_refusal(tags: dict[str, str], stream: str, account_id: str) -> str | None:
    """Why AWS refuses ``tags`` for their characters, in its words, or None when every character is allowed."""
    texts = [*tags, *tags.values()]
    allowed = TAG_PUNCTUATION | {"%"}
    if any(not (ch.isalnum() or ch.isspace() or ch in allowed) for text in texts for ch in text):
        return (
            "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, "
            "_ . / = + - % @ :."
        )
    if any("%" in text for text in texts):
        return (
            f"Failed to add tags to stream {stream} under account {account_id} because some tags contained illegal "
            "characters. The allowed characters are Unicode letters, white-spaces, "
            "'_',',','/','=','+','-','@',':'."
        )
    return None


# --- requests ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateStreamInput:
    stream: str
    shard_count: int
    on_demand: bool
    tags: dict[str, str]

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> CreateStreamInput:
        stream = req_str(body, "StreamName", max_len=MAX_STREAM_NAME, pattern=STREAM_NAME_RE)
        shard_count = opt_int(body, "ShardCount", low=1, high=100_000)
        mode_details = opt_map(body, "StreamModeDetails") or {}
        mode = opt_enum(mode_details, "StreamMode", ("PROVISIONED", "ON_DEMAND")) or "PROVISIONED"
        on_demand = mode == "ON_DEMAND"
        if shard_count is None:
            if not on_demand:
                raise validation_error(None, "shardCount", "Member must not be null")
            shard_count = 4  # what an ON_DEMAND stream starts with in Kinesis
        return cls(stream, shard_count, on_demand, _tags(opt_map(body, "Tags") or {}, "tags"))


@dataclass(frozen=True, slots=True)
class StreamInput:
    """Operations that take only the stream: DeleteStream, DescribeStreamSummary."""

    stream: str

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> StreamInput:
        stream = stream_of(body)
        assert stream is not None  # noqa: S101 - stream_of(required=True) raises instead
        return cls(stream)


@dataclass(frozen=True, slots=True)
class DescribeStreamInput:
    stream: str
    limit: int
    exclusive_start_shard_id: str | None

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> DescribeStreamInput:
        return cls(
            StreamInput.parse(body, wire).stream,
            opt_int(body, "Limit", low=1, high=MAX_LIST_LIMIT) or 100,
            opt_str(body, "ExclusiveStartShardId", max_len=MAX_SHARD_ID, pattern=SHARD_ID_RE),
        )


@dataclass(frozen=True, slots=True)
class ListStreamsInput:
    limit: int
    exclusive_start_stream_name: str | None
    next_token: str | None

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> ListStreamsInput:
        return cls(
            opt_int(body, "Limit", low=1, high=MAX_LIST_LIMIT) or 100,
            opt_str(body, "ExclusiveStartStreamName", max_len=MAX_STREAM_NAME, pattern=STREAM_NAME_RE),
            opt_str(body, "NextToken", max_len=MAX_NEXT_TOKEN),
        )


@dataclass(frozen=True, slots=True)
class ListShardsInput:
    stream: str | None
    next_token: str | None
    exclusive_start_shard_id: str | None
    max_results: int
    filter_type: str | None
    filter_shard_id: str | None
    filter_timestamp_ms: int | None

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> ListShardsInput:
        stream = stream_of(body, required=False)
        next_token = opt_str(body, "NextToken", max_len=MAX_NEXT_TOKEN)
        start = opt_str(body, "ExclusiveStartShardId", max_len=MAX_SHARD_ID, pattern=SHARD_ID_RE)
        if next_token is not None and (stream is not None or start is not None):
            raise InvalidArgumentException("NextToken and StreamName (or ExclusiveStartShardId) cannot be combined.")
        if next_token is None and stream is None:
            raise InvalidArgumentException("Either NextToken or StreamName should be provided.")
        shard_filter = opt_map(body, "ShardFilter") or {}
        filter_type = opt_enum(shard_filter, "Type", SHARD_FILTER_TYPES) if shard_filter else None
        if shard_filter and filter_type is None:
            raise validation_error(None, "shardFilter.type", "Member must not be null")
        filter_shard_id = opt_str(shard_filter, "ShardId", max_len=MAX_SHARD_ID, pattern=SHARD_ID_RE)
        if filter_type == "AFTER_SHARD_ID" and filter_shard_id is None:
            raise InvalidArgumentException("ShardFilter of type AFTER_SHARD_ID needs a ShardId.")
        timestamp_ms = None
        if filter_type in ("AT_TIMESTAMP", "FROM_TIMESTAMP") and shard_filter.get("Timestamp") is not None:
            timestamp_ms = wire.timestamp_ms(shard_filter["Timestamp"], "shardFilter.timestamp")
        return cls(
            stream,
            next_token,
            start,
            opt_int(body, "MaxResults", low=1, high=MAX_LIST_LIMIT) or 1000,
            filter_type,
            filter_shard_id,
            timestamp_ms,
        )


@dataclass(slots=True)
class RecordInput:
    """One record to write, from PutRecord or an entry of PutRecords. ``size`` is data plus partition key bytes,
    what counts against the 1 MiB record and 5 MiB request limits."""

    data: bytes
    partition_key: str
    explicit_hash_key: str | None
    size: int

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire, index: int | None = None) -> RecordInput:
        # The hot path of PutRecords (500 of these per call): plain checks first, the worded errors after.
        if type(body) is not dict:
            raise type_error(_member(index, "record").rstrip("."), "a structure")
        raw = body.get("Data")
        partition_key = body.get("PartitionKey")
        explicit = body.get("ExplicitHashKey")
        if raw is None:
            raise validation_error(None, _member(index, "data"), "Member must not be null")
        try:
            data = wire.blob(raw, "data")
        except SerializationException:
            wire.blob(raw, _member(index, "data"))  # raises again, naming the member in full
            raise
        if len(data) > MAX_RECORD_DATA:
            raise validation_error(
                f"java.nio.HeapByteBuffer[pos=0 lim={len(data)} cap={len(data)}]",
                _member(index, "data"),
                f"Member must have length less than or equal to {MAX_RECORD_DATA}",
            )
        if type(partition_key) is not str or not 0 < len(partition_key) <= MAX_PARTITION_KEY:
            partition_key = req_str(body, "PartitionKey", max_len=MAX_PARTITION_KEY)
        key_bytes = len(partition_key) if partition_key.isascii() else len(partition_key.encode())
        if explicit is not None:
            explicit = opt_str(body, "ExplicitHashKey", pattern=HASH_KEY_RE)
            if explicit is not None and int(explicit) >= 2**128:
                raise InvalidArgumentException(
                    "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
                    f"Specified value was {explicit}"
                )
        return cls(data, partition_key, explicit, len(data) + key_bytes)


def _member(index: int | None, name: str) -> str:
    return name if index is None else f"records.{index + 1}.member.{name}"


@dataclass(frozen=True, slots=True)
class PutRecordInput:
    stream: str
    record: RecordInput
    sequence_number_for_ordering: str | None

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> PutRecordInput:
        stream = StreamInput.parse(body, wire).stream
        record = RecordInput.parse(body, wire)
        ordering = opt_str(body, "SequenceNumberForOrdering", pattern=SEQUENCE_NUMBER_RE)
        return cls(stream, record, ordering)


@dataclass(frozen=True, slots=True)
class PutRecordsInput:
    stream: str
    records: list[RecordInput]

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> PutRecordsInput:
        stream = StreamInput.parse(body, wire).stream
        entries = req_list(body, "Records", max_items=MAX_RECORDS_PER_PUT)
        return cls(stream, _parse_records(entries, wire))


def malformed_record_entries(entries: list[Any]) -> list[int]:
    """Indexes of the PutRecords entries that may break a constraint of the model: the others are a partition key of
    1 to 256 characters and data of a blob's type, nothing else. Run on 500 entries a call, so one tight loop; the
    data's encoding and size are checked when the records are read (:func:`_parse_records`)."""
    malformed: list[int] = []
    for index, entry in enumerate(entries):
        if type(entry) is dict and len(entry) == 2:
            key = entry.get("PartitionKey")
            data = entry.get("Data")
            if type(key) is str and 0 < len(key) <= MAX_PARTITION_KEY and (type(data) is str or type(data) is bytes):
                continue
        malformed.append(index)
    return malformed


def _parse_records(entries: list[Any], wire: Wire) -> list[RecordInput]:
    """The 500 records of a PutRecords call. A tight loop for well-formed records (no ExplicitHashKey, ASCII keys,
    sizes in range); any record that leaves it is parsed by :meth:`RecordInput.parse`, which words the error."""
    fast_blob = getattr(wire, "fast_blob", None)
    records: list[RecordInput] = []
    append = records.append
    for index, entry in enumerate(entries):
        if fast_blob is not None and type(entry) is dict and len(entry) == 2:
            raw = entry.get("Data")
            key = entry.get("PartitionKey")
            if type(key) is str and 0 < len(key) <= MAX_PARTITION_KEY and key.isascii():
                try:
                    data = fast_blob(raw)
                except (TypeError, ValueError):
                    pass  # binascii.Error is a ValueError; the slow path reports it
                else:
                    if len(data) <= MAX_RECORD_DATA:
                        append(RecordInput(data, key, None, len(data) + len(key)))
                        continue
        append(RecordInput.parse(entry, wire, index))
    return records


@dataclass(frozen=True, slots=True)
class GetShardIteratorInput:
    stream: str
    shard_id: str
    iterator_type: str
    starting_sequence_number: str | None
    timestamp_ms: int | None

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> GetShardIteratorInput:
        stream = StreamInput.parse(body, wire).stream
        shard_id = req_str(body, "ShardId", max_len=MAX_SHARD_ID, pattern=SHARD_ID_RE)
        iterator_type = req_enum(body, "ShardIteratorType", ITERATOR_TYPES)
        sequence = opt_str(body, "StartingSequenceNumber", pattern=SEQUENCE_NUMBER_RE)
        raw_ts = body.get("Timestamp")
        timestamp_ms = None if raw_ts is None else wire.timestamp_ms(raw_ts, "timestamp")
        if iterator_type in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER") and sequence is None:
            raise InvalidArgumentException(f"Must specify StartingSequenceNumber for {iterator_type} iterator type.")
        if iterator_type == "AT_TIMESTAMP" and timestamp_ms is None:
            raise InvalidArgumentException(
                "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP."
            )
        if iterator_type not in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER") and sequence is not None:
            raise InvalidArgumentException(
                f"Request should not contain a starting sequence number for {iterator_type} iterator type."
            )
        if iterator_type != "AT_TIMESTAMP" and timestamp_ms is not None:
            raise InvalidArgumentException(
                f"Request should not contain timestampInMillis parameter for {iterator_type} iterator type."
            )
        return cls(stream, shard_id, iterator_type, sequence, timestamp_ms)


@dataclass(frozen=True, slots=True)
class GetRecordsInput:
    iterator: str
    limit: int
    stream: str | None

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> GetRecordsInput:
        return cls(
            req_str(body, "ShardIterator", max_len=MAX_ITERATOR),
            opt_int(body, "Limit", low=1, high=MAX_LIST_LIMIT) or 10_000,
            stream_of(body, required=False),
        )


@dataclass(frozen=True, slots=True)
class RetentionInput:
    stream: str
    hours: int

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> RetentionInput:
        stream = StreamInput.parse(body, wire).stream
        hours = req_int(body, "RetentionPeriodHours", low=1, high=1_000_000)
        return cls(stream, hours)


@dataclass(frozen=True, slots=True)
class AddTagsInput:
    stream: str
    tags: dict[str, str]

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> AddTagsInput:
        stream = StreamInput.parse(body, wire).stream
        raw = opt_map(body, "Tags")
        if raw is None:
            raise validation_error(None, "tags", "Member must not be null")
        if not raw:
            raise validation_error("{}", "tags", "Member must have length greater than or equal to 1")
        return cls(stream, _tags(raw, "tags"))


@dataclass(frozen=True, slots=True)
class ListTagsInput:
    stream: str
    exclusive_start_tag_key: str | None
    limit: int

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> ListTagsInput:
        return cls(
            StreamInput.parse(body, wire).stream,
            opt_str(body, "ExclusiveStartTagKey", max_len=MAX_TAG_KEY),
            opt_int(body, "Limit", low=1, high=MAX_TAGS_LISTED) or MAX_TAGS_LISTED,
        )


@dataclass(frozen=True, slots=True)
class RemoveTagsInput:
    stream: str
    keys: list[str]

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> RemoveTagsInput:
        stream = StreamInput.parse(body, wire).stream
        raw = opt_list(body, "TagKeys")
        if raw is None:
            raise validation_error(None, "tagKeys", "Member must not be null")
        if not 1 <= len(raw) <= MAX_TAGS_PER_CALL:
            raise validation_error(raw, "tagKeys", f"Member must have length between 1 and {MAX_TAGS_PER_CALL}")
        if not all(isinstance(key, str) and 1 <= len(key) <= MAX_TAG_KEY for key in raw):
            raise validation_error(raw, "tagKeys", f"Tag keys must be strings of length between 1 and {MAX_TAG_KEY}")
        return cls(stream, list(raw))


@dataclass(frozen=True, slots=True)
class EnhancedMonitoringInput:
    """EnableEnhancedMonitoring and DisableEnhancedMonitoring: the metrics named (``ALL`` expanded)."""

    stream: str
    metrics: frozenset[str]

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> EnhancedMonitoringInput:
        """The list and its names were checked against the model by the router's validation."""
        stream = StreamInput.parse(body, wire).stream
        names = {name for name in opt_list(body, "ShardLevelMetrics") or () if isinstance(name, str)}
        known = frozenset(SHARD_LEVEL_METRICS)
        return cls(stream, known if "ALL" in names else known & names)
