"""Pagination tokens (ListStreams, ListShards) and shard ids: small pure helpers of the service."""

from __future__ import annotations

import base64
import binascii
from typing import NamedTuple

import orjson

from emulator.aws.errors import InvalidArgumentException
from emulator.kinesis.shapes import SHARD_FILTER_TYPES


def shard_index(shard: str) -> int | None:
    """The shard a ShardId names, resolved by its number as AWS resolves it: the digits after the last ``-``, or the
    whole id when it has none (``shardId-000000000003``, ``shard-3``, ``anything-3`` and ``3`` all name shard 3);
    None when that part is not a number."""
    digits = shard.rpartition("-")[2]
    if not digits.isdecimal() or not digits.isascii():
        return None
    return int(digits)


def first_shard_after(exclusive_start: str | None, shard_count: int) -> int:
    """Index of the first shard listed after ``exclusive_start`` (``shard_count`` when none is).

    An id that names a shard by its number (:func:`shard_index`) pages from that number, whether or not the shard
    exists; any other string is compared with the shard ids as text, the order the ids sort in. Never a restart at
    shard 0 for an id that sorts after it: a paginating client would loop.
    """
    if exclusive_start is None:
        return 0
    index = shard_index(exclusive_start)
    if index is not None:
        return min(index + 1, shard_count)
    for index in range(shard_count):
        if f"shardId-{index:012d}" > exclusive_start:
            return index
    return shard_count


def make_token(payload: dict[str, str]) -> str:
    """An opaque ``NextToken`` carrying where the next page starts."""
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode("ascii")


def open_token(token: str, key: str, *, optional: bool = False) -> str:
    """The ``key`` member of a token made by :func:`make_token`; InvalidArgumentException for anything else. An
    ``optional`` member a token lacks reads as the empty string."""
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        value = payload.get(key, "") if optional else payload[key]
    except (
        binascii.Error,
        ValueError,
        UnicodeEncodeError,
        orjson.JSONDecodeError,
        KeyError,
        TypeError,
        AttributeError,
    ):
        raise InvalidArgumentException(f"NextToken {token!r} is not valid.") from None
    if not isinstance(value, str):
        raise InvalidArgumentException(f"NextToken {token!r} is not valid.")
    return value


class ShardFilter(NamedTuple):
    """ListShards' ShardFilter (type, ShardId, Timestamp in ms), carried in the NextToken so that a filtered
    listing's later pages apply the filter its first page was asked for."""

    kind: str | None
    shard: str | None
    at_ms: int | None

    def token_members(self) -> dict[str, str]:
        return {
            "filter": self.kind or "",
            "filter_shard": self.shard or "",
            "at": "" if self.at_ms is None else str(self.at_ms),
        }

    @classmethod
    def of_token(cls, token: str) -> ShardFilter:
        """The filter a token carries (none for a token without one); InvalidArgumentException for a forged one."""
        kind = open_token(token, "filter", optional=True)
        at = open_token(token, "at", optional=True)
        if (kind and kind not in SHARD_FILTER_TYPES) or (at and not (at.isascii() and at.isdecimal())):
            raise InvalidArgumentException(f"NextToken {token!r} is not valid.")
        return cls(kind or None, open_token(token, "filter_shard", optional=True) or None, int(at) if at else None)
