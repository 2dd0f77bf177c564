"""Behaviour that depends on settings: iterator expiry, per-shard throttling, and SigV4 verification."""

from __future__ import annotations

import time
import uuid

import pytest
from botocore.exceptions import ClientError
from pydantic import SecretStr

from emulator.kinesis import KinesisSettings, ShardWriteLimit
from producers.partitioning import shard_id
from tests.support.kinesis_server import ACCESS_KEY, SECRET_KEY, kinesis_client, serve_kinesis, wait_active
from tests.support.wire import post


def code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def test_iterators_expire(kafka_bootstrap: str) -> None:
    with serve_kinesis(KinesisSettings(iterator_ttl_s=1.0), kafka_bootstrap) as url:
        kinesis = kinesis_client(url)
        name = f"ks-expiry-{uuid.uuid4().hex[:6]}"
        kinesis.create_stream(StreamName=name, ShardCount=1)
        wait_active(kinesis, name)
        kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k")
        iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0), ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"
        ]
        fresh = kinesis.get_records(ShardIterator=iterator)
        assert [r["Data"] for r in fresh["Records"]] == [b"x"]
        time.sleep(1.3)
        with pytest.raises(ClientError) as excinfo:
            kinesis.get_records(ShardIterator=iterator)
        assert code(excinfo) == "ExpiredIteratorException"
        assert "Iterator expired" in excinfo.value.response["Error"]["Message"]
        kinesis.delete_stream(StreamName=name)


def test_throttling_fails_records_individually(kafka_bootstrap: str) -> None:
    limit = ShardWriteLimit(records_per_second=1, bytes_per_second=1024 * 1024)
    with serve_kinesis(KinesisSettings(shard_write_limit=limit), kafka_bootstrap) as url:
        kinesis = kinesis_client(url)
        name = f"ks-throttle-{uuid.uuid4().hex[:6]}"
        kinesis.create_stream(StreamName=name, ShardCount=1)
        wait_active(kinesis, name)
        response = kinesis.put_records(
            StreamName=name, Records=[{"Data": f"{i}".encode(), "PartitionKey": "k"} for i in range(20)]
        )
        assert response["FailedRecordCount"] == 19
        failed = [entry for entry in response["Records"] if "ErrorCode" in entry]
        assert {entry["ErrorCode"] for entry in failed} == {"ProvisionedThroughputExceededException"}
        assert all("Rate exceeded for shard shardId-000000000000" in entry["ErrorMessage"] for entry in failed)
        written = [entry for entry in response["Records"] if "SequenceNumber" in entry]
        assert len(written) == 1
        with pytest.raises(ClientError) as excinfo:
            kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k")
        assert code(excinfo) == "ProvisionedThroughputExceededException"
        time.sleep(1.1)  # the bucket refills
        assert kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k")["ShardId"] == shard_id(0)
        kinesis.delete_stream(StreamName=name)


def test_signature_verification(kafka_bootstrap: str) -> None:
    settings = KinesisSettings(
        verify_signatures=True, access_key_id=ACCESS_KEY, secret_access_key=SecretStr(SECRET_KEY)
    )
    with serve_kinesis(settings, kafka_bootstrap) as url:
        assert isinstance(kinesis_client(url).list_streams(Limit=1)["StreamNames"], list)
        for client, expected in [
            (kinesis_client(url, secret_key="wrong-secret"), "InvalidSignatureException"),  # noqa: S106
            (kinesis_client(url, access_key="AKIDUNKNOWN"), "UnrecognizedClientException"),
        ]:
            with pytest.raises(ClientError) as excinfo:
                client.list_streams()
            assert code(excinfo) == expected
        unsigned = post(url, "ListStreams", b"{}")
        assert unsigned.status_code == 403
        assert unsigned.json()["__type"] == "MissingAuthenticationTokenException"
