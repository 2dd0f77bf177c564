"""Events in, Parquet out on the real broker and the real MinIO: content, keys, errors, schema evolution."""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

import orjson
import pyarrow.parquet as pq

from tests.integration.sinks.helpers import deliver, delivery_config, encode, event, keys_under, landed, produce
from tests.support.endpoints import Endpoints

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


async def test_events_land_as_parquet_with_firehose_keys(
    endpoints: Endpoints, new_topic, new_group_id, bucket_prefix: str, s3: S3Client
) -> None:
    topic = await new_topic(partitions=3)
    events = [event(i) for i in range(3000)]
    await produce(endpoints.kafka_bootstrap, topic, encode(events), partitions=3)
    config = delivery_config("clicks", topic, endpoints.bucket, bucket_prefix, new_group_id())
    stream = await deliver(config, endpoints)
    assert stream.stats.records_delivered == 3000
    assert stream.stats.records_failed == 0
    keys = keys_under(s3, endpoints.bucket, bucket_prefix)
    pattern = re.compile(
        re.escape(bucket_prefix)
        + r"data/\d{4}/\d{2}/\d{2}/\d{2}/clicks-1-\d{4}(-\d{2}){5}-"
        + re.escape(topic)
        + r"-[0-2]-0{20}\.parquet$"
    )
    assert keys
    assert all(pattern.match(k) for k in keys), keys
    con = landed(endpoints, bucket_prefix)
    rows = con.execute("select event_id, player_id, level, points from landed order by event_id").fetchall()
    assert rows == [(e["event_id"], e["player_id"], e["level"], e["points"]) for e in events]
    body = s3.get_object(Bucket=endpoints.bucket, Key=keys[0])["Body"].read()
    meta = pq.read_metadata(io.BytesIO(body))
    assert meta.metadata[b"kemu.first_offset"] == b"0"
    assert meta.row_group(0).column(0).compression == "ZSTD"


async def test_bad_records_go_under_the_error_prefix_with_reasons(
    endpoints: Endpoints, new_topic, new_group_id, bucket_prefix: str, s3: S3Client
) -> None:
    topic = await new_topic(partitions=1)
    values = encode([event(i) for i in range(5)])
    values += [b"{not json", b"[1, 2]", orjson.dumps(event(5, level="high")), orjson.dumps(event(6))]
    await produce(endpoints.kafka_bootstrap, topic, values, partitions=1)
    config = delivery_config(
        "games",
        topic,
        endpoints.bucket,
        bucket_prefix,
        new_group_id(),
        data="dt=!{timestamp:yyyy-MM-dd}/",
        errors="errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/",
        interval_s=0,
    )
    stream = await deliver(config, endpoints)
    assert stream.stats.records_failed == 3
    assert stream.stats.records_delivered == 6
    error_keys = keys_under(s3, endpoints.bucket, bucket_prefix + "errors/")
    assert len(error_keys) == 1
    assert re.search(
        r"errors/format-conversion-failed/\d{4}/\d{2}/\d{2}/games-1-.*-0-0{15}00005\.jsonl$", error_keys[0]
    )
    lines = [
        orjson.loads(line)
        for line in s3.get_object(Bucket=endpoints.bucket, Key=error_keys[0])["Body"].read().splitlines()
    ]
    assert [line["source"]["offset"] for line in lines] == [5, 6, 7]
    assert [line["rawDataUtf8"] for line in lines[:2]] == ["{not json", "[1, 2]"]
    assert all(line["attemptsMade"] == 1 and line["errorMessage"] for line in lines)
    assert "type conflict: field 'level' is bigint" in lines[2]["errorMessage"]
    assert lines[2]["errorCode"] == "DataFormatConversion.InvalidSchema"
    con = landed(endpoints, bucket_prefix + "dt=")
    assert con.execute("select count(*), count(distinct event_id) from landed").fetchone() == (6, 6)


async def test_dynamic_partitioning_and_schema_evolution(
    endpoints: Endpoints, new_topic, new_group_id, bucket_prefix: str, s3: S3Client
) -> None:
    topic = await new_topic(partitions=1)
    first = [event(i, country=["DE", "FR"][i % 2]) for i in range(10)]
    config = delivery_config(
        "geo",
        topic,
        endpoints.bucket,
        bucket_prefix,
        new_group_id(),
        data="dt=!{timestamp:yyyy-MM-dd}/country=!{partitionKeyFromQuery:country}/",
        interval_s=0,
    )
    await produce(endpoints.kafka_bootstrap, topic, encode(first), partitions=1)
    await deliver(config, endpoints)
    later = [event(i, country="DE", referrer="https://x.test") for i in range(10, 14)]
    later.append(event(14))  # no country: a partitioning failure
    await produce(endpoints.kafka_bootstrap, topic, encode(later), partitions=1)
    stream = await deliver(config, endpoints)
    assert stream.stats.records_failed == 1
    keys = keys_under(s3, endpoints.bucket, bucket_prefix)
    data = [k for k in keys if k.endswith(".parquet")]
    assert {re.search(r"country=(\w+)/", k).group(1) for k in data} == {"DE", "FR"}  # type: ignore[union-attr]
    assert len(data) == 3  # DE and FR from the first write, DE from the second
    assert any("/errors/processing-failed/" in k for k in keys)
    con = landed(endpoints, bucket_prefix + "dt=")
    assert con.execute("select count(*) from landed where referrer is not null").fetchone() == (4,)
    assert con.execute("select count(*) from landed").fetchone() == (14,)


async def test_incomplete_multipart_uploads_of_the_stream_are_aborted_at_start(
    endpoints: Endpoints, new_topic, new_group_id, bucket_prefix: str, s3: S3Client
) -> None:
    topic = await new_topic(partitions=1)
    await produce(endpoints.kafka_bootstrap, topic, encode([event(0)]), partitions=1)
    ours = f"{bucket_prefix}data/2026/11/27/08/tidy-1-2026-11-27-08-00-00-{topic}-0-00000000000000000000.parquet"
    other = f"{bucket_prefix}data/someone-elses-upload.bin"
    ours_id = s3.create_multipart_upload(Bucket=endpoints.bucket, Key=ours)["UploadId"]
    other_id = s3.create_multipart_upload(Bucket=endpoints.bucket, Key=other)["UploadId"]
    config = delivery_config("tidy", topic, endpoints.bucket, bucket_prefix, new_group_id(), interval_s=0)
    await deliver(config, endpoints)
    # Listed whole and filtered: MinIO lists an upload under a prefix only for its exact key.
    uploads = s3.list_multipart_uploads(Bucket=endpoints.bucket).get("Uploads", [])
    left = [u["UploadId"] for u in uploads if u["Key"].startswith(bucket_prefix)]
    assert left == [other_id]
    assert ours_id != other_id
    s3.abort_multipart_upload(Bucket=endpoints.bucket, Key=other, UploadId=other_id)
