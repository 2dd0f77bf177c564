"""The AWS errors of the Kinesis API. Each class carries its wire ``__type`` and HTTP status.

KinesisError (base; never raised itself)
├── ResourceNotFoundException           the stream or shard does not exist (or is not ACTIVE)
├── ResourceInUseException              the stream exists already, or is not in a state for this operation
├── InvalidArgumentException            a value is well-formed but not acceptable (e.g. wrong shard, limits)
├── LimitExceededException              an account limit (shards, tags) would be exceeded
├── ExpiredIteratorException            a shard iterator is older than its time to live
├── ProvisionedThroughputExceededException   a shard's write rate is exceeded (only when throttling is on)
├── ValidationException                 a member fails its shape constraint (length, pattern, range)
├── SerializationException              the body is not valid JSON / CBOR or a member has the wrong type
├── UnknownOperationException           the X-Amz-Target names no Kinesis operation
├── UnsupportedOperationException       a real Kinesis operation that kemu does not implement
├── ServiceUnavailableException         Kafka did not take a write (Firehose's retryable error); status 503
├── IncompleteSignatureException        the Authorization header is malformed (signature checks on)
├── MissingAuthenticationTokenException no Authorization header (signature checks on)
├── UnrecognizedClientException         unknown access key (signature checks on)
├── InvalidSignatureException           the signature does not match (signature checks on)
└── InternalFailure                     Kafka failed; status 500
"""

from __future__ import annotations

from typing import ClassVar


class KinesisError(Exception):
    """Base of the errors the API returns as ``{"__type": ..., "message": ...}``."""

    type_name: ClassVar[str] = "InternalFailure"
    status: ClassVar[int] = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, str]:
        return {"__type": self.type_name, "message": self.message}


class ResourceNotFoundException(KinesisError):
    type_name = "ResourceNotFoundException"


class ResourceInUseException(KinesisError):
    type_name = "ResourceInUseException"


class InvalidArgumentException(KinesisError):
    type_name = "InvalidArgumentException"


class LimitExceededException(KinesisError):
    type_name = "LimitExceededException"


class ExpiredIteratorException(KinesisError):
    type_name = "ExpiredIteratorException"


class ProvisionedThroughputExceededException(KinesisError):
    type_name = "ProvisionedThroughputExceededException"


class ValidationException(KinesisError):
    type_name = "ValidationException"


class SerializationException(KinesisError):
    type_name = "SerializationException"


class UnknownOperationException(KinesisError):
    type_name = "UnknownOperationException"


class UnsupportedOperationException(KinesisError):
    type_name = "UnsupportedOperationException"


class ServiceUnavailableException(KinesisError):
    type_name = "ServiceUnavailableException"
    status = 503


class IncompleteSignatureException(KinesisError):
    type_name = "IncompleteSignatureException"


class MissingAuthenticationTokenException(KinesisError):
    type_name = "MissingAuthenticationTokenException"
    status = 403


class UnrecognizedClientException(KinesisError):
    type_name = "UnrecognizedClientException"


class InvalidSignatureException(KinesisError):
    type_name = "InvalidSignatureException"


class InternalFailure(KinesisError):
    type_name = "InternalFailure"
    status = 500


def validation_error(value: object, member: str, constraint: str) -> ValidationException:
    """A ValidationException worded as AWS words it, naming the member and the constraint it fails."""
    shown = repr(value) if not isinstance(value, str) else value
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return ValidationException(
        f"1 validation error detected: Value '{shown}' at '{member}' failed to satisfy constraint: {constraint}"
    )
