"""The AWS error classes: each one's wire ``__type`` is its class name, and its HTTP status is AWS's."""

from __future__ import annotations

import pytest

from emulator.athena import errors as athena_errors
from emulator.aws import errors as aws_errors
from emulator.aws.errors import AwsError
from emulator.glue import errors as glue_errors


def _raised_errors() -> list[type[AwsError]]:
    bases = {AwsError, glue_errors.GlueError, athena_errors.AthenaError}
    found = []
    for module in (aws_errors, glue_errors, athena_errors):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, AwsError) and value not in bases:
                found.append(value)
    return found


@pytest.mark.parametrize("error", _raised_errors(), ids=lambda error: f"{error.__module__}.{error.__name__}")
def test_wire_type_is_the_class_name(error: type[AwsError]) -> None:
    body = error("why").body()
    assert (body["__type"], body["message"]) == (error.__name__, "why")


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (aws_errors.ResourceNotFoundException, 400),
        (aws_errors.AccessDeniedException, 403),
        (aws_errors.MissingAuthenticationTokenException, 403),
        (aws_errors.ServiceUnavailableException, 503),
        (aws_errors.InternalFailure, 500),
        (glue_errors.EntityNotFoundException, 400),
        (glue_errors.InternalServiceException, 500),
        (athena_errors.InvalidRequestException, 400),
        (athena_errors.InternalServerException, 500),
    ],
)
def test_status(error: type[AwsError], status: int) -> None:
    assert error.status == status


def test_athena_invalid_request_carries_its_error_code() -> None:
    body = athena_errors.InvalidRequestException("bad SQL", code="SYNTAX").body()
    assert body == {"__type": "InvalidRequestException", "message": "bad SQL", "AthenaErrorCode": "SYNTAX"}
