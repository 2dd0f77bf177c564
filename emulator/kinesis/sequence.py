"""Sequence numbers: a (shard, Kafka offset) pair as the 56-digit decimal number AWS's Kinesis returns.

AWS's numbers are, read in hexadecimal, a fixed layout of 47 digits (as kinesalite worked it out from real responses):
``2`` | shard creation time in seconds (9) | the shard index's last hex digit (1) | the sequence index within the
shard (16) | an unknown byte (2) | the record's time in seconds (9) | the shard index (8) | ``2`` (the layout's
version). kemu uses that layout with the Kafka offset as the sequence index, the shard index as the shard index,
and zeros for the times and the unknown byte, so:

- every number has AWS's 56 decimal digits (the value lies between 2^185 and 1.5 · 2^185), hence string order is
  numeric order;
- within a shard numbers grow with the offset, as AWS's grow with the sequence index;
- they are unique within a stream (the shard index is in them), and decode back to the Kafka position, which is what
  ``AT_SEQUENCE_NUMBER`` / ``AFTER_SEQUENCE_NUMBER`` iterators need.

The 34-digit numbers of earlier kemu versions (``49`` + 12 digits of shard + 20 of offset) still decode, so a
checkpoint a consumer stored stays usable.
"""

from __future__ import annotations

from typing import NamedTuple

LENGTH = 56
VERSION = 2
#: Bit positions of the layout's fields, from the least significant end (4 bits a hex digit).
SHARD_SHIFT = 4
OFFSET_SHIFT = 80
SHARD_LOW_SHIFT = 144
LEAD = 2 << 184
MAX_SHARD = 2**31 - 1
MAX_OFFSET = 2**63 - 1
#: Bits that are zero in every number kemu writes (times, the unknown byte, the unused top bits of the fields).
_ZERO_FIELDS = ((1 << 184) - 1) & ~(0xF << SHARD_LOW_SHIFT) & ~(MAX_OFFSET << OFFSET_SHIFT) & ~(MAX_SHARD << 4) & ~0xF
_LEGACY_LENGTH = 34
_LEGACY_PREFIX = "49"


class Position(NamedTuple):
    """Where a record is in Kafka: shard index == partition, and offset."""

    shard: int
    offset: int


def shard_base(shard: int) -> int:
    """The number of offset 0 in ``shard`` as an integer: ``str(shard_base(s) + (offset << OFFSET_SHIFT))`` is
    ``encode(s, offset)`` without the checks, for building hundreds of them per PutRecords call."""
    if not 0 <= shard <= MAX_SHARD:
        raise ValueError(f"shard index {shard} out of range")
    return LEAD | (shard & 0xF) << SHARD_LOW_SHIFT | shard << SHARD_SHIFT | VERSION


def encode(shard: int, offset: int) -> str:
    """The sequence number of the record at ``offset`` in partition ``shard``."""
    if not 0 <= offset <= MAX_OFFSET:
        raise ValueError(f"offset {offset} out of range")
    return str(shard_base(shard) + (offset << OFFSET_SHIFT))


def decode(sequence_number: str) -> Position:
    """The (shard, offset) a sequence number encodes; ``ValueError`` if it is not one of ours."""
    if sequence_number.isascii() and sequence_number.isdecimal():
        if len(sequence_number) == LENGTH:
            value = int(sequence_number)
            shard = (value >> SHARD_SHIFT) & MAX_SHARD
            if (
                value >> 184 == 2
                and value & 0xF == VERSION
                and not value & _ZERO_FIELDS
                and (value >> SHARD_LOW_SHIFT) & 0xF == shard & 0xF
            ):
                return Position(shard, (value >> OFFSET_SHIFT) & MAX_OFFSET)
        elif len(sequence_number) == _LEGACY_LENGTH and sequence_number.startswith(_LEGACY_PREFIX):
            return Position(int(sequence_number[2:14]), int(sequence_number[14:]))
    raise ValueError(f"{sequence_number!r} is not a sequence number of this emulator")


def starting_sequence_number(shard: int) -> str:
    """The ``StartingSequenceNumber`` of a shard's range: the number offset 0 would get."""
    return encode(shard, 0)
