"""AWS's order and wording of validation, and the HTTP edges of the API (issue 16, item 4): member types first
(SerializationException), then every constraint violation in one message, then resources; 403 for a GET, CORS
preflight answered, tag character rules, future timestamps refused, and empty bodies where AWS sends none.

The expected messages are the ones real Kinesis gives (as kinesalite's tests, written against it, record them), with
the enum and patterns of botocore's current model.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.integration.kinesis.conftest import StreamFactory
from tests.support.kinesis_server import aws_client
from tests.support.wire import UNCHECKED_SIGNATURE, post


def raw(url: str, operation: str, body: dict[str, Any] | bytes, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return post(url, operation, content, headers={**UNCHECKED_SIGNATURE, **headers})


def error_of(response: httpx.Response) -> tuple[str, str]:
    assert response.status_code == 400, response.text
    body = response.json()
    return body["__type"], body["message"]


@pytest.fixture(scope="module")
def unchecked(kinesis_url: str) -> Any:
    """boto3 without its own parameter validation, so the server's is what answers."""
    return aws_client("kinesis", kinesis_url, parameter_validation=False)


def client_error(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def test_member_types_are_checked_before_any_constraint(kinesis_url: str) -> None:
    # The stream name breaks its pattern, but the shard id's type is checked first.
    code, message = error_of(raw(kinesis_url, "GetShardIterator", {"StreamName": "", "ShardId": 5}))
    assert code == "SerializationException"
    assert "shardId" in message


def test_every_constraint_violation_is_listed_in_one_message(unchecked: Any) -> None:
    code, message = client_error(
        lambda: unchecked.get_shard_iterator(StreamName="", ShardIteratorType="", ShardId="", StartingSequenceNumber="")
    )
    assert code == "ValidationException"
    assert message == (
        "6 validation errors detected: "
        "Value '' at 'shardId' failed to satisfy constraint: Member must satisfy regular expression pattern: "
        "[a-zA-Z0-9_.-]+; "
        "Value '' at 'shardId' failed to satisfy constraint: Member must have length greater than or equal to 1; "
        "Value '' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: "
        "[AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]; "
        "Value '' at 'startingSequenceNumber' failed to satisfy constraint: Member must satisfy regular expression "
        "pattern: ^(0|([1-9]\\d{0,128}))$; "
        "Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: "
        "[a-zA-Z0-9_.-]+; "
        "Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1"
    )


def test_missing_required_members_are_listed_together(kinesis_url: str) -> None:
    code, message = error_of(raw(kinesis_url, "GetShardIterator", {}))
    assert code == "ValidationException"
    assert message == (
        "2 validation errors detected: "
        "Value null at 'shardId' failed to satisfy constraint: Member must not be null; "
        "Value null at 'shardIteratorType' failed to satisfy constraint: Member must not be null"
    )


def test_records_violations_name_their_entry(unchecked: Any) -> None:
    code, message = client_error(
        lambda: unchecked.put_records(
            StreamName="x" * 129,
            Records=[{"Data": b"ok", "PartitionKey": "k"}, {"Data": b"ok", "PartitionKey": ""}],
        )
    )
    assert code == "ValidationException"
    assert message.startswith("2 validation errors detected: ")
    assert "at 'records.2.member.partitionKey' failed to satisfy constraint: Member must have length greater" in (
        message
    )
    assert "at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128" in (
        message
    )


def test_constraints_are_checked_before_resources(unchecked: Any) -> None:
    missing = f"missing-{uuid.uuid4().hex[:6]}"
    code, _ = client_error(
        lambda: unchecked.get_shard_iterator(StreamName=missing, ShardId="shardId-0", ShardIteratorType="FIRST")
    )
    assert code == "ValidationException"
    code, _ = client_error(
        lambda: unchecked.get_shard_iterator(StreamName=missing, ShardId="shardId-0", ShardIteratorType="LATEST")
    )
    assert code == "ResourceNotFoundException"


def test_a_get_is_access_denied_as_on_aws(kinesis_url: str) -> None:
    for headers in ({"X-Amz-Target": "Kinesis_20131202.ListStreams"}, UNCHECKED_SIGNATURE):
        response = httpx.get(kinesis_url, headers=headers, timeout=30)
        assert response.status_code == 403
        assert "<AccessDeniedException>" in response.text
        assert "Unable to determine service/operation name to be authorized" in response.text


def test_cors_preflight_is_answered_and_responses_allow_any_origin(kinesis_url: str) -> None:
    asked = "authorization,content-type,x-amz-date,x-amz-target,x-amz-user-agent"
    response = httpx.options(
        kinesis_url,
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": asked,
        },
        timeout=30,
    )
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-methods"] == "POST"
    assert response.headers["access-control-allow-headers"] == asked
    listed = raw(kinesis_url, "ListStreams", {}, Origin="http://localhost:3000")
    assert listed.status_code == 200
    assert listed.headers["access-control-allow-origin"] == "*"
    assert "x-amzn-RequestId" in listed.headers["access-control-expose-headers"]


def test_operations_without_output_answer_an_empty_body(kinesis_url: str, kinesis: Any) -> None:
    name = f"ks-empty-{uuid.uuid4().hex[:6]}"
    created = raw(kinesis_url, "CreateStream", {"StreamName": name, "ShardCount": 1})
    try:
        assert created.status_code == 200
        assert created.content == b""
        assert created.headers["content-length"] == "0"
        listed = raw(kinesis_url, "ListStreams", {})
        assert listed.json()["HasMoreStreams"] in (True, False)
    finally:
        kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1})
        kinesis.delete_stream(StreamName=name)


@pytest.mark.parametrize(
    ("key", "value"), [("bad#key", "v"), ("k", "bad*value"), ("k", "bad<value>"), ("per%cent", "v")]
)
def test_tag_characters_follow_aws_rules(kinesis: Any, new_stream: StreamFactory, key: str, value: str) -> None:
    name = new_stream()
    code, message = client_error(lambda: kinesis.add_tags_to_stream(StreamName=name, Tags={key: value}))
    assert code == "InvalidArgumentException"
    assert "characters" in message
    code, _ = client_error(lambda: kinesis.create_stream(StreamName=f"{name}-t", ShardCount=1, Tags={key: value}))
    assert code == "InvalidArgumentException"


def test_tags_with_every_allowed_character_are_kept(kinesis: Any, new_stream: StreamFactory) -> None:
    name = new_stream()
    tags = {"team name_1.a/b=c+d-e@f:g": "Zürich 東京 value_2.x/y=z+1-2@3:4"}
    kinesis.add_tags_to_stream(StreamName=name, Tags=tags)
    listed = kinesis.list_tags_for_stream(StreamName=name)["Tags"]
    assert {tag["Key"]: tag["Value"] for tag in listed} == tags


def test_a_timestamp_after_now_is_refused(kinesis: Any, new_stream: StreamFactory) -> None:
    name = new_stream()
    future = dt.datetime.now(tz=dt.UTC) + dt.timedelta(hours=1)
    code, message = client_error(
        lambda: kinesis.get_shard_iterator(
            StreamName=name, ShardId="shardId-000000000000", ShardIteratorType="AT_TIMESTAMP", Timestamp=future
        )
    )
    assert code == "InvalidArgumentException"
    assert "cannot be greater than the currentTimestampInMillis" in message
