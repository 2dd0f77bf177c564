"""AWS's validation from botocore's model (emulator.aws.validation), without a server."""

from __future__ import annotations

import base64

import pytest

from emulator.aws.errors import SerializationException, ValidationException
from emulator.aws.protocol import JSON
from emulator.aws.validation import MAX_VIOLATIONS, has_output, operation_validators
from emulator.kinesis.api import VALIDATORS

PUT_RECORDS = VALIDATORS["PutRecords"]


def violations(error: ValidationException) -> list[str]:
    return error.message.split(": ", 1)[1].split("; ")


def test_types_come_before_constraints() -> None:
    with pytest.raises(SerializationException, match="records"):
        PUT_RECORDS.check({"StreamName": "", "Records": "not a list"}, JSON)


def test_bad_base64_is_a_serialization_error() -> None:
    with pytest.raises(SerializationException):
        VALIDATORS["PutRecord"].check({"StreamName": "", "Data": "!!", "PartitionKey": ""}, JSON)


def test_violations_are_listed_in_alphabetical_member_order() -> None:
    with pytest.raises(ValidationException) as caught:
        VALIDATORS["PutRecord"].check({"StreamName": "", "Data": "", "PartitionKey": ""}, JSON)
    listed = violations(caught.value)
    assert caught.value.message.startswith(f"{len(listed)} validation errors detected: ")
    assert [item.split("'")[3] for item in listed] == ["partitionKey", "streamName", "streamName"]


def test_at_most_ten_violations_are_listed() -> None:
    records = [{"Data": "", "PartitionKey": ""} for _ in range(20)]
    with pytest.raises(ValidationException) as caught:
        PUT_RECORDS.check({"Records": records}, JSON)
    assert len(violations(caught.value)) == MAX_VIOLATIONS
    assert caught.value.message.startswith(f"{MAX_VIOLATIONS} validation errors detected: ")


def test_well_formed_records_pass_and_a_bad_one_is_named() -> None:
    good = {"Data": base64.b64encode(b"x").decode(), "PartitionKey": "k"}
    PUT_RECORDS.check({"StreamName": "s", "Records": [good] * 500}, JSON)
    with pytest.raises(ValidationException, match=r"records\.3\.member\.partitionKey"):
        PUT_RECORDS.check({"StreamName": "s", "Records": [good, good, {**good, "PartitionKey": "k" * 257}]}, JSON)


def test_blob_lengths_are_decoded_sizes() -> None:
    (validator,) = operation_validators("kinesis", ["PutRecord"]).values()
    data = base64.b64encode(b"x" * (10 * 1024 * 1024 + 1)).decode()
    with pytest.raises(ValidationException, match=r"lim=10485761 .*less than or equal to 10485760"):
        validator.check({"StreamName": "s", "Data": data, "PartitionKey": "k"}, JSON)


def test_operations_without_output_are_known_from_the_model() -> None:
    assert not has_output("kinesis", "CreateStream")
    assert has_output("kinesis", "ListStreams")
