"""Paging of Glue's list operations and the name patterns of GetTables (pure).

A NextToken is opaque to callers: the base64 of the sort key of the last item returned, so a page after a change
(an item added or deleted) neither repeats nor skips what is left. A token kemu did not give is an
InvalidInputException.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import orjson

from emulator.glue.errors import InvalidInputException
from emulator.lake import patterns

T = TypeVar("T")


def encode_token(key: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode("ascii")


def decode_token(token: str) -> Any:
    try:
        return orjson.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeEncodeError, orjson.JSONDecodeError):
        raise InvalidInputException("NextToken is not a token this endpoint gave; start again without it.") from None


def page(items: Sequence[T], sort_key: Callable[[T], Any], token: str | None, limit: int) -> tuple[list[T], str | None]:
    """The items after ``token`` in ``sort_key`` order, at most ``limit``, and the token of the next page."""
    ordered = sorted(items, key=sort_key)
    if token is not None:
        after = decode_token(token)
        if not isinstance(after, list | str):
            raise InvalidInputException("NextToken is not a token this endpoint gave; start again without it.")
        after_key = tuple(after) if isinstance(after, list) else after
        ordered = [item for item in ordered if _comparable(sort_key(item)) > after_key]
    chosen = ordered[:limit]
    more = len(ordered) > limit
    return chosen, encode_token(_jsonable(sort_key(chosen[-1]))) if more and chosen else None


def _comparable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


def _jsonable(key: Any) -> Any:
    return list(key) if isinstance(key, tuple) else key


def name_pattern(expression: str | None) -> Callable[[str], bool]:
    """GetTables' Expression (:func:`emulator.lake.patterns.name_pattern`); InvalidInputException when too long."""
    try:
        return patterns.name_pattern(expression)
    except patterns.PatternError as exc:
        raise InvalidInputException(f"Expression: {exc}.") from None
