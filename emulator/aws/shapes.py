"""Reading AWS request members from a decoded body (JSON or CBOR) with the constraints of AWS's shapes.

A member of the wrong type is a ``SerializationException``; a member that breaks its constraint (length, pattern,
range, enum) is a ``ValidationException`` worded as AWS words it. Every service's request shapes are built from these
readers, so they word the same error the same way.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, TypeVar

from emulator.aws.errors import SerializationException, validation_error


class Wire(Protocol):
    """How a protocol carries the two types JSON has no native form for."""

    def blob(self, value: object, member: str) -> bytes: ...

    def timestamp_ms(self, value: object, member: str) -> int: ...


T = TypeVar("T")


def type_error(member: str, expected: str) -> SerializationException:
    return SerializationException(f"Member {member!r} must be {expected}.")


def member_name(key: str) -> str:
    """How AWS's validation messages name a member: ``StreamName`` is ``streamName``."""
    return key[0].lower() + key[1:]


def _typed(body: dict[str, Any], key: str, kind: type[T], expected: str) -> T | None:
    """``body[key]`` if present and a ``kind``, None if absent or null; a SerializationException otherwise."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, kind):
        raise type_error(key, expected)
    return value


def _required(value: T | None, key: str) -> T:
    if value is None:
        raise validation_error(None, member_name(key), "Member must not be null")
    return value


def opt_str(
    body: dict[str, Any],
    key: str,
    *,
    min_len: int = 1,
    max_len: int | None = None,
    pattern: re.Pattern[str] | None = None,
) -> str | None:
    value = _typed(body, key, str, "a string")
    if value is None:
        return None
    member = member_name(key)
    if len(value) < min_len:
        raise validation_error(value, member, f"Member must have length greater than or equal to {min_len}")
    if max_len is not None and len(value) > max_len:
        raise validation_error(value, member, f"Member must have length less than or equal to {max_len}")
    if pattern is not None and not pattern.fullmatch(value):
        raise validation_error(value, member, f"Member must satisfy regular expression pattern: {pattern.pattern}")
    return value


def req_str(body: dict[str, Any], key: str, **kwargs: Any) -> str:
    return _required(opt_str(body, key, **kwargs), key)


def opt_int(body: dict[str, Any], key: str, *, low: int, high: int | None = None) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():  # 5.0 is 5 (JSON and CBOR clients may send floats)
        value = int(value)
    if type(value) is not int:  # bool, NaN, infinities, fractions and every other type
        raise type_error(key, "an integer")
    number = value
    member = member_name(key)
    if number < low:
        raise validation_error(number, member, f"Member must have value greater than or equal to {low}")
    if high is not None and number > high:
        raise validation_error(number, member, f"Member must have value less than or equal to {high}")
    return number


def req_int(body: dict[str, Any], key: str, *, low: int, high: int | None = None) -> int:
    return _required(opt_int(body, key, low=low, high=high), key)


def opt_enum(body: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str | None:
    value = opt_str(body, key)
    if value is not None and value not in allowed:
        raise validation_error(value, member_name(key), f"Member must satisfy enum value set: [{', '.join(allowed)}]")
    return value


def req_enum(body: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    return _required(opt_enum(body, key, allowed), key)


def opt_map(body: dict[str, Any], key: str) -> dict[str, Any] | None:
    return _typed(body, key, dict, "a structure or map")


def opt_list(body: dict[str, Any], key: str) -> list[Any] | None:
    return _typed(body, key, list, "a list")


def req_list(body: dict[str, Any], key: str, *, max_items: int) -> list[Any]:
    """A required, non-empty list of at most ``max_items`` members (PutRecords' and PutRecordBatch's records)."""
    entries = _required(opt_list(body, key), key)
    member = member_name(key)
    if not entries:
        raise validation_error("[]", member, "Member must have length greater than or equal to 1")
    if len(entries) > max_items:
        raise validation_error(
            f"[{len(entries)} records]", member, f"Member must have length less than or equal to {max_items}"
        )
    return entries
