"""The AWS errors of the services on the endpoint (Kinesis, Firehose, and the next ones). Each class carries its wire
``__type`` (its own name) and HTTP status; a service raises the ones its API documents.

AwsError (base; never raised itself)
├── ResourceNotFoundException           the stream or shard does not exist (or is not ACTIVE)
├── ResourceInUseException              the stream exists already, or is not in a state for this operation
├── InvalidArgumentException            a value is well-formed but not acceptable (e.g. wrong shard, limits)
├── LimitExceededException              an account limit (shards, tags) would be exceeded
├── ExpiredIteratorException            a shard iterator is older than its time to live
├── ProvisionedThroughputExceededException   a shard's write rate is exceeded (only when throttling is on)
├── ValidationException                 a member fails its shape constraint (length, pattern, range)
├── SerializationException              the body is not valid JSON / CBOR or a member has the wrong type
├── UnknownOperationException           the X-Amz-Target names no operation of a service served here
├── UnsupportedOperationException       a real AWS operation that kemu does not implement
├── AccessDeniedException               a request that is not a POST (no operation to authorize); status 403
├── ServiceUnavailableException         Kafka did not take a write (Firehose's retryable error); status 503
├── IncompleteSignatureException        the Authorization header is malformed (signature checks on)
├── MissingAuthenticationTokenException no Authorization header (signature checks on)
├── UnrecognizedClientException         unknown access key (signature checks on)
├── InvalidSignatureException           the signature does not match (signature checks on)
└── InternalFailure                     Kafka failed; status 500
"""

from __future__ import annotations

from typing import Any, ClassVar


class AwsError(Exception):
    """Base of the errors the API returns as ``{"__type": ..., "message": ...}``."""

    type_name: ClassVar[str] = "InternalFailure"
    status: ClassVar[int] = 400

    def __init_subclass__(cls, status: int | None = None, **kwargs: Any) -> None:
        """A subclass's wire ``__type`` is its own name, so the two cannot differ; ``status`` (a class keyword,
        ``class AccessDeniedException(AwsError, status=403)``) is its HTTP status when not the inherited one."""
        super().__init_subclass__(**kwargs)
        cls.type_name = cls.__name__
        if status is not None:
            cls.status = status

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, str]:
        return {"__type": self.type_name, "message": self.message}

    def xml(self) -> bytes:
        """The error in the XML shape AWS uses where no protocol applies yet (a request that is not a POST)."""
        message = self.message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return f"<{self.type_name}>\n  <Message>{message}</Message>\n</{self.type_name}>\n".encode()


class ResourceNotFoundException(AwsError):
    pass


class ResourceInUseException(AwsError):
    pass


class InvalidArgumentException(AwsError):
    pass


class LimitExceededException(AwsError):
    pass


class ExpiredIteratorException(AwsError):
    pass


class ProvisionedThroughputExceededException(AwsError):
    pass


class ValidationException(AwsError):
    pass


class SerializationException(AwsError):
    pass


class UnknownOperationException(AwsError):
    pass


class UnsupportedOperationException(AwsError):
    pass


class AccessDeniedException(AwsError, status=403):
    pass


class ServiceUnavailableException(AwsError, status=503):
    pass


class IncompleteSignatureException(AwsError):
    pass


class MissingAuthenticationTokenException(AwsError, status=403):
    pass


class UnrecognizedClientException(AwsError):
    pass


class InvalidSignatureException(AwsError):
    pass


class InternalFailure(AwsError, status=500):
    pass


def shown_value(value: object) -> str:
    """A member's value as a validation message quotes it: strings as they are, others as Python shows them, cut at
    80 characters (a 1 MiB value is not echoed back)."""
    shown = repr(value) if not isinstance(value, str) else value
    return shown if len(shown) <= 80 else shown[:77] + "..."


def validation_error(value: object, member: str, constraint: str) -> ValidationException:
    """A ValidationException worded as AWS words it, naming the member and the constraint it fails."""
    return ValidationException(
        f"1 validation error detected: Value '{shown_value(value)}' at '{member}' failed to satisfy constraint: "
        f"{constraint}"
    )
