"""Sequence numbers: a (shard, Kafka offset) pair as the decimal string Kinesis clients expect.

Layout (34 decimal digits, fixed width so that string order is numeric order): ``49`` + the shard index in 12
digits + the Kafka offset in 20 digits. Within a shard the number grows with the offset; across the shards of a
stream the shard digits keep numbers unique; and the pair decodes back to a Kafka position, which is what
``AT_SEQUENCE_NUMBER`` / ``AFTER_SEQUENCE_NUMBER`` iterators need. Real Kinesis numbers are 56 digits and opaque;
clients treat them as opaque strings, so the width does not matter to them.
"""

from __future__ import annotations

from typing import NamedTuple

PREFIX = "49"
SHARD_DIGITS = 12
OFFSET_DIGITS = 20
LENGTH = len(PREFIX) + SHARD_DIGITS + OFFSET_DIGITS
MAX_SHARD = 10**SHARD_DIGITS - 1
MAX_OFFSET = 10**OFFSET_DIGITS - 1


class Position(NamedTuple):
    """Where a record is in Kafka: shard index == partition, and offset."""

    shard: int
    offset: int


def encode(shard: int, offset: int) -> str:
    """The sequence number of the record at ``offset`` in partition ``shard``."""
    if not 0 <= shard <= MAX_SHARD:
        raise ValueError(f"shard index {shard} out of range")
    if not 0 <= offset <= MAX_OFFSET:
        raise ValueError(f"offset {offset} out of range")
    return f"{PREFIX}{shard:0{SHARD_DIGITS}d}{offset:0{OFFSET_DIGITS}d}"


def shard_prefix(shard: int) -> str:
    """The leading digits every sequence number of ``shard`` shares: ``shard_prefix(s) + f"{offset:020d}"`` is
    ``encode(s, offset)`` without the checks, for building hundreds of them per PutRecords call."""
    return encode(shard, 0)[: len(PREFIX) + SHARD_DIGITS]


def decode(sequence_number: str) -> Position:
    """The (shard, offset) a sequence number encodes; ``ValueError`` if it is not one of ours."""
    if len(sequence_number) != LENGTH or not sequence_number.isdecimal() or not sequence_number.startswith(PREFIX):
        raise ValueError(f"{sequence_number!r} is not a sequence number of this emulator")
    body = sequence_number[len(PREFIX) :]
    return Position(int(body[:SHARD_DIGITS]), int(body[SHARD_DIGITS:]))


def starting_sequence_number(shard: int) -> str:
    """The ``StartingSequenceNumber`` of a shard's range: the number offset 0 would get."""
    return encode(shard, 0)
