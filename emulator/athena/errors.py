"""The errors of the Athena API.

AthenaError (base; never raised itself)
├── InvalidRequestException   a query or argument Athena refuses (bad SQL, unknown table, unknown execution id)
├── ResourceNotFoundException an unknown work group
├── TooManyRequestsException  too many queries queued
└── InternalServerException   kemu failed; status 500
"""

from __future__ import annotations

from typing import Any

from emulator.athena.wire import AwsError


class AthenaError(AwsError):
    """Base of the Athena API's errors."""


class InvalidRequestException(AthenaError):
    pass

    def __init__(self, message: str, code: str = "INVALID_INPUT") -> None:
        super().__init__(message)
        self.code = code

    def body(self) -> dict[str, Any]:
        return {**super().body(), "AthenaErrorCode": self.code}


class ResourceNotFoundException(AthenaError):
    pass


class TooManyRequestsException(AthenaError):
    pass


class InternalServerException(AthenaError, status=500):
    pass


class QueryFailed(Exception):
    """A query that ran and failed: its state turns FAILED with this reason (never an API error)."""

    def __init__(self, message: str, category: int = 2) -> None:
        super().__init__(message)
        self.message = message
        #: Athena's ErrorCategory: 1 system, 2 user, 3 other.
        self.category = category
