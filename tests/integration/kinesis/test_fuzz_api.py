"""Fuzzing the Kinesis and Firehose endpoint with botocore's own model: whatever the body, the answer is a 2xx or
a 4xx with an AWS error type, in both wire formats; never a 5xx.

Every operation botocore knows is drawn (the unsupported ones must answer 4xx too), with bodies built from its input
shape (tests/support/aws_fuzz.py). Names that resolve (a stream, a shard, an iterator, a delivery stream) are drawn
now and then, so requests get past validation into the operations on real Kafka and MinIO. CI runs Hypothesis's
``ci`` profile (derandomized: the same examples every run); a local run explores new ones.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import cbor2
import httpx
import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from botocore.model import OperationModel
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from emulator.firehose.api import OPERATIONS as FIREHOSE_OPERATIONS
from emulator.kinesis.api import OPERATIONS as KINESIS_OPERATIONS
from emulator.topics import TopicPolicy
from tests.integration.firehose.conftest import s3_config, wait_active
from tests.support.aws_fuzz import Wire, encode, request_bodies, service_operations
from tests.support.endpoints import Endpoints
from tests.support.kinesis_process import kinesis_process
from tests.support.kinesis_server import firehose_client, kinesis_client
from tests.support.kinesis_server import wait_active as wait_stream_active

RUN = uuid.uuid4().hex[:8]
STREAM = f"fuzz-{RUN}"
DELIVERY = f"fuzz-{RUN}"
TARGETS = {"kinesis": "Kinesis_20131202", "firehose": "Firehose_20150804"}
CONTENT_TYPES: dict[Wire, str] = {"json": "application/x-amz-json-1.1", "cbor": "application/x-amz-cbor-1.1"}
OPERATIONS = [(service, op) for service in TARGETS for op in service_operations(service)]
SERVED = {"kinesis": set(KINESIS_OPERATIONS), "firehose": set(FIREHOSE_OPERATIONS)}
SERVED_OPERATIONS = [(service, op) for service, op in OPERATIONS if op.name in SERVED[service]]
OTHER_OPERATIONS = [(service, op) for service, op in OPERATIONS if op.name not in SERVED[service]]
#: Examples per test; KEMU_FUZZ_EXAMPLES raises it for a longer local hunt.
FUZZ = settings(
    max_examples=int(os.environ.get("KEMU_FUZZ_EXAMPLES", "40")), deadline=None, suppress_health_check=list(HealthCheck)
)


async def shards_in_use(bootstrap: str) -> int:
    """Partitions of the topics the shard quota counts (every stream of the cluster, other tests' too)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        topics = await admin.describe_topics(None)
    finally:
        await admin.close()
    return sum(len(t["partitions"]) for t in topics if not TopicPolicy().is_sealed(t["topic"]))


@pytest.fixture(scope="module")
def server(
    kafka_bootstrap: str, endpoints: Endpoints, bucket: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, list[str]]]]:
    """The endpoint (its own metadata topics, a shard quota with room for 64 more) and the names that resolve."""
    env = {
        "KEMU_KAFKA__BOOTSTRAP_SERVERS": kafka_bootstrap,
        "KEMU_S3__ENDPOINT_URL": endpoints.s3_endpoint,
        "KEMU_S3__ACCESS_KEY_ID": endpoints.s3_access_key,
        "KEMU_S3__SECRET_ACCESS_KEY": endpoints.s3_secret_key,
        "KEMU_S3__BUCKET": bucket,
        "KEMU_KINESIS__METADATA_TOPIC": f"fuzz-test-streams-{RUN}",
        "KEMU_KINESIS__SHARD_LIMIT": str(asyncio.run(shards_in_use(kafka_bootstrap)) + 64),
        "KEMU_KINESIS__FIREHOSE__METADATA_TOPIC": f"fuzz-test-deliveries-{RUN}",
        "KEMU_KINESIS__FIREHOSE__POLL_TIMEOUT_MS": "100",
        "KEMU_LOG_LEVEL": "WARNING",
    }
    log = tmp_path_factory.mktemp("fuzz") / "kinesis.log"
    with kinesis_process(env, log) as url:
        kinesis, firehose = kinesis_client(url), firehose_client(url)
        kinesis.create_stream(StreamName=STREAM, ShardCount=2)
        wait_stream_active(kinesis, STREAM)
        put = kinesis.put_record(StreamName=STREAM, Data=b"{}", PartitionKey="k")
        iterator = kinesis.get_shard_iterator(StreamName=STREAM, ShardId=put["ShardId"], ShardIteratorType="LATEST")
        firehose.create_delivery_stream(
            DeliveryStreamName=DELIVERY, ExtendedS3DestinationConfiguration=s3_config(bucket, f"fuzz-{RUN}/", 60)
        )
        wait_active(firehose, DELIVERY)
        arn = f"arn:aws:kinesis:us-east-1:000000000000:stream/{STREAM}"
        known = {
            "StreamName": [STREAM, "__consumer_offsets", "kemu-kinesis-metadata"],
            "StreamARN": [arn],
            "KinesisStreamARN": [arn],
            "ShardId": ["shardId-000000000000", "shardId-000000000001", "shardId-0000000000001"],
            "ExclusiveStartShardId": ["shardId-000000000000", "shardId-9999999999999"],
            "ShardIterator": [iterator["ShardIterator"]],
            "StartingSequenceNumber": [put["SequenceNumber"]],
            "SequenceNumberForOrdering": [put["SequenceNumber"]],
            "PartitionKey": ["k"],
            "ShardIteratorType": ["AT_TIMESTAMP"],
            "DeliveryStreamName": [DELIVERY],
            "BucketARN": [f"arn:aws:s3:::{bucket}"],
        }
        before = set(kinesis.list_streams(Limit=10000)["StreamNames"])
        try:
            yield url, known
        finally:
            # What the fuzz created on the shared broker goes again.
            for name in set(kinesis.list_streams(Limit=10000)["StreamNames"]) - before | {STREAM}:
                try:
                    kinesis.delete_stream(StreamName=name)
                except Exception as exc:
                    print(f"could not delete fuzz stream {name}: {exc}")
            for name in firehose.list_delivery_streams(Limit=10000)["DeliveryStreamNames"]:
                try:
                    firehose.delete_delivery_stream(DeliveryStreamName=name)
                except Exception as exc:
                    print(f"could not delete fuzz delivery stream {name}: {exc}")
        server_errors = [line for line in log.read_text().splitlines() if "unexpected error serving" in line]
        assert not server_errors, "\n".join(server_errors)


def post(client: httpx.Client, url: str, target: str, body: bytes, content_type: str) -> httpx.Response:
    return client.post(url, content=body, headers={"Content-Type": content_type, "X-Amz-Target": target})


def check(response: httpx.Response, wire: Wire, sent: object) -> None:
    assert response.status_code < 500, f"{response.status_code} {response.content[:300]!r} for {sent!r}"
    if response.status_code == 200 and not response.content:
        return  # an operation without output, answered with an empty body as AWS answers it
    decoded = cbor2.loads(response.content, semantic_decoders={1: lambda v, _i: v}) if wire == "cbor" else None
    if wire == "json":
        decoded = orjson.loads(response.content)
    assert isinstance(decoded, dict)
    if response.status_code >= 400:
        assert isinstance(decoded.get("__type"), str), decoded
        assert isinstance(decoded.get("message"), str), decoded


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as client:
        yield client


def fuzz_operations(
    server: tuple[str, dict[str, list[str]]],
    http: httpx.Client,
    data: st.DataObject,
    wire: Wire,
    pool: list[tuple[str, OperationModel]],
) -> None:
    url, known = server
    service, operation = data.draw(st.sampled_from(pool), label="operation")
    body = data.draw(request_bodies(operation, wire, known), label="body")
    response = post(http, url, f"{TARGETS[service]}.{operation.name}", encode(body, wire), CONTENT_TYPES[wire])
    event(f"{operation.name} -> {response.status_code}")
    check(response, wire, (operation.name, body))


@pytest.mark.parametrize("wire", ["json", "cbor"])
@pytest.mark.parametrize("served", SERVED_OPERATIONS, ids=lambda pair: pair[1].name)
@FUZZ
@given(data=st.data())
def test_no_body_of_a_served_operation_gets_a_server_error(
    server: tuple[str, dict[str, list[str]]],
    http: httpx.Client,
    wire: Wire,
    served: tuple[str, OperationModel],
    data: st.DataObject,
) -> None:
    fuzz_operations(server, http, data, wire, [served])


@pytest.mark.parametrize("wire", ["json", "cbor"])
@FUZZ
@given(data=st.data())
def test_every_other_operation_is_refused_with_a_4xx(
    server: tuple[str, dict[str, list[str]]], http: httpx.Client, wire: Wire, data: st.DataObject
) -> None:
    fuzz_operations(server, http, data, wire, OTHER_OPERATIONS)


def test_still_serving_after_the_fuzz(server: tuple[str, dict[str, list[str]]], http: httpx.Client) -> None:
    url, _ = server
    assert post(http, url, "Kinesis_20131202.ListStreams", b"{}", CONTENT_TYPES["json"]).is_success


@FUZZ
@given(
    target=st.sampled_from([f"{TARGETS[s]}.{op.name}" for s, op in OPERATIONS] + ["", "Nope.Nope", "Kinesis_20131202"]),
    body=st.binary(max_size=200),
    wire=st.sampled_from(["json", "cbor"]),
)
def test_no_raw_bytes_get_a_server_error(
    server: tuple[str, dict[str, list[str]]], http: httpx.Client, target: str, body: bytes, wire: Wire
) -> None:
    url, _ = server
    check(post(http, url, target, body, CONTENT_TYPES[wire]), wire, (target, body))
