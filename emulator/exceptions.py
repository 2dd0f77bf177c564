"""Errors of the ``emulator`` package. Each carries a sentence a user can act on; the CLI prints it, no traceback.

EmulatorError
├── ConfigurationError        settings or arguments that cannot work
└── ServicesError             the embedded Kafka and MinIO
    ├── MissingToolError      java, mvn or go is not installed
    ├── ProvisionError        fetching the Kafka jars or building MinIO failed
    ├── ServiceStartError     a service did not start or did not answer in time
    └── ServicesNotRunningError   a command needs the services and none are running
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator


class EmulatorError(Exception):
    """Base of every error the emulator reports to its user."""


class ConfigurationError(EmulatorError):
    """Settings or command-line arguments that cannot work together."""


class ServicesError(EmulatorError):
    """Something went wrong with the embedded local services."""


class MissingToolError(ServicesError):
    """A program the embedded services need (java, mvn, go) is not on PATH."""


class ProvisionError(ServicesError):
    """Downloading or building a service failed; the message names the log with the details."""


class ServiceStartError(ServicesError):
    """A service process exited early or did not answer before the timeout."""


class ServicesNotRunningError(ServicesError):
    """A command needs Kafka and S3 addresses, and neither settings nor running embedded services give them."""


@contextlib.contextmanager
def reported_as(
    raised: type[Exception] | tuple[type[Exception], ...], report: Callable[[str], EmulatorError]
) -> Iterator[None]:
    """Inside the block, a library's ``raised`` error becomes the command's ``report`` error with the same sentence
    (the CLI prints an :class:`EmulatorError`'s message instead of a traceback)."""
    try:
        yield
    except raised as exc:
        raise report(str(exc)) from exc
