"""Shard iterators: opaque, tamper-proof tokens that carry a Kafka position and the time they were issued.

A token is standard base64 (as AWS's iterators are) of a fixed layout: ``version`` (8 bytes, 1: AWS's iterators
open with the same eight bytes, ``AAAAAAAAAAE``...), ``issued_ms`` (8), ``shard`` (4), ``offset`` (8), the stream
name, then a 16-byte HMAC-SHA256 tag over everything before it. The HMAC key is the server's; a token from another
server, or edited by hand, is rejected as invalid rather than read from a wrong place. Tokens expire ``ttl_ms``
after they were issued (5 minutes in Kinesis), which :func:`decode` checks against an explicit clock.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import struct
from typing import NamedTuple

from emulator.aws.errors import ExpiredIteratorException, InvalidArgumentException

VERSION = 1
DEFAULT_TTL_MS = 300_000
_HEADER = struct.Struct(">QQIQ")
_TAG_BYTES = 16


class ShardIterator(NamedTuple):
    """What an iterator points at: the next record to return is at ``offset`` of partition ``shard``."""

    stream: str
    shard: int
    offset: int
    issued_ms: int


def encode(iterator: ShardIterator, key: bytes) -> str:
    """The opaque token of ``iterator``, signed with ``key``."""
    payload = _HEADER.pack(VERSION, iterator.issued_ms, iterator.shard, iterator.offset) + iterator.stream.encode()
    tag = hmac.new(key, payload, hashlib.sha256).digest()[:_TAG_BYTES]
    return base64.b64encode(payload + tag).decode("ascii")


def decode(token: str, key: bytes, now_ms: int, ttl_ms: int = DEFAULT_TTL_MS) -> ShardIterator:
    """Check and open a token. Raises InvalidArgumentException (not ours) or ExpiredIteratorException (too old)."""
    try:
        raw = base64.b64decode(token.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise _invalid(token) from None
    if len(raw) <= _HEADER.size + _TAG_BYTES:
        raise _invalid(token)
    payload, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
    if not hmac.compare_digest(tag, hmac.new(key, payload, hashlib.sha256).digest()[:_TAG_BYTES]):
        raise _invalid(token)
    version, issued_ms, shard, offset = _HEADER.unpack_from(payload)
    if version != VERSION:
        raise _invalid(token)
    if now_ms - issued_ms > ttl_ms:
        raise ExpiredIteratorException(
            f"Iterator expired. The iterator was created at time {_iso(issued_ms)} while right now it is "
            f"{_iso(now_ms)} which is further in the future than the tolerated delay of {ttl_ms} milliseconds."
        )
    return ShardIterator(payload[_HEADER.size :].decode(), shard, offset, issued_ms)


def _invalid(token: str) -> InvalidArgumentException:
    shown = token if len(token) <= 64 else token[:61] + "..."
    return InvalidArgumentException(f"Invalid ShardIterator: {shown!r} was not issued by this server.")


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
