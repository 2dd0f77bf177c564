"""The static limits of AWS's request shapes, read from the service models that botocore ships.

A shape reader states a limit once, by naming the shape the model defines it on (``PartitionKey``'s 256 characters,
``PutRecordsRequestEntryList``'s 500 entries), so the emulator refuses what AWS refuses, with AWS's numbers, without
copying them by hand. Where kemu deliberately differs from the current model (Kinesis records stay at 1 MiB while the
model now allows 10 MiB for streams configured so), the shape module keeps its own constant and says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import botocore.session


@dataclass(frozen=True, slots=True)
class ShapeLimits:
    """A shape's ``min``, ``max`` (length, size, count or value) and ``pattern``, when the model states them."""

    min: int | None
    max: int | None
    pattern: str | None


@cache
def _service(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def limits(service: str, shape: str) -> ShapeLimits:
    """The limits of ``shape`` in ``service``'s model (``kinesis``, ``firehose``...)."""
    metadata = _service(service).shape_for(shape).metadata
    return ShapeLimits(metadata.get("min"), metadata.get("max"), metadata.get("pattern"))


def maximum(service: str, shape: str) -> int:
    """The ``max`` of ``shape``; ``LookupError`` when the model states none (a limit kemu must then set itself)."""
    found = limits(service, shape).max
    if found is None:
        raise LookupError(f"the {service} model states no maximum for {shape}")
    return found


def pattern(service: str, shape: str) -> re.Pattern[str]:
    """The ``pattern`` of ``shape``, compiled (matched whole); ``LookupError`` when the model states none."""
    found = limits(service, shape).pattern
    if found is None:
        raise LookupError(f"the {service} model states no pattern for {shape}")
    return re.compile(found)


def enum_values(service: str, shape: str) -> tuple[str, ...]:
    """The values of the enum ``shape``, in the model's order."""
    return tuple(_service(service).shape_for(shape).enum)


def target_prefix(service: str) -> str:
    """The ``X-Amz-Target`` prefix of ``service``'s operations, with its dot (``Kinesis_20131202.``)."""
    return f"{_service(service).metadata['targetPrefix']}."
