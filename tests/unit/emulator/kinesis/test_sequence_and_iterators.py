from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.aws.errors import ExpiredIteratorException, InvalidArgumentException
from emulator.kinesis import iterators, sequence
from producers.partitioning import HASH_KEY_SPACE, hash_key_of, shard_for_partition_key

KEY = b"k" * 32


@given(st.integers(0, sequence.MAX_SHARD), st.integers(0, 2**63 - 1))
def test_sequence_numbers_round_trip(shard: int, offset: int) -> None:
    number = sequence.encode(shard, offset)
    assert number.isdecimal()
    assert len(number) == sequence.LENGTH
    assert sequence.decode(number) == (shard, offset)


@given(st.integers(0, 1000), st.integers(0, 2**62), st.integers(0, 2**62))
def test_sequence_numbers_increase_with_the_offset(shard: int, a: int, b: int) -> None:
    assert (int(sequence.encode(shard, a)) < int(sequence.encode(shard, b))) == (a < b)


def test_sequence_numbers_are_unique_across_shards() -> None:
    numbers = {sequence.encode(shard, offset) for shard in range(10) for offset in range(100)}
    assert len(numbers) == 1000


AWS_NUMBER = "49590338271490256608559692538361571095921575989136588898"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "12",
        "x" * 34,
        "59" + "0" * 32,
        sequence.encode(1, 1) + "0",
        AWS_NUMBER,
        str(int(sequence.encode(1, 1)) + 1),
        str(int(sequence.encode(1, 1)) + (1 << 40)),
        "٤" * 56,
    ],
)
def test_foreign_sequence_numbers_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="not a sequence number"):
        sequence.decode(bad)


def test_iterator_round_trip_and_opacity() -> None:
    position = iterators.ShardIterator("orders.v1", 3, 12345, 1_000_000)
    token = iterators.encode(position, KEY)
    assert "orders" not in token
    assert iterators.decode(token, KEY, now_ms=1_000_000 + 299_999) == position


def test_iterator_expires_after_five_minutes() -> None:
    token = iterators.encode(iterators.ShardIterator("s", 0, 0, 1_000_000), KEY)
    with pytest.raises(ExpiredIteratorException, match="300000 milliseconds"):
        iterators.decode(token, KEY, now_ms=1_000_000 + 300_001)


@pytest.mark.parametrize("mutate", ["key", "flip", "garbage", "short"])
def test_tampered_or_foreign_iterators_are_invalid(mutate: str) -> None:
    token = iterators.encode(iterators.ShardIterator("s", 0, 7, 1_000), KEY)
    key = KEY
    if mutate == "key":
        key = b"other" * 8
    elif mutate == "flip":
        token = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    elif mutate == "garbage":
        token = "!!!not base64!!!"  # noqa: S105 - not a password
    else:
        token = token[:8]
    with pytest.raises(InvalidArgumentException, match="Invalid ShardIterator"):
        iterators.decode(token, key, now_ms=1_000)


@given(st.integers(0, 10_000), st.integers(0, 2**63 - 1))
def test_shard_base_builds_the_same_numbers_as_encode(shard: int, offset: int) -> None:
    assert str(sequence.shard_base(shard) + (offset << sequence.OFFSET_SHIFT)) == sequence.encode(shard, offset)


@given(st.text(min_size=1, max_size=256), st.integers(1, 64))
def test_the_inlined_partitioning_rule_matches_the_shared_one(key: str, shards: int) -> None:
    # puts.Puts.put_records inlines this for speed; it must stay the producers' rule.
    assert min(hash_key_of(key) // (HASH_KEY_SPACE // shards), shards - 1) == shard_for_partition_key(key, shards)


@given(st.integers(0, sequence.MAX_SHARD), st.integers(0, sequence.MAX_OFFSET))
def test_sequence_numbers_have_aws_width_and_layout(shard: int, offset: int) -> None:
    number = sequence.encode(shard, offset)
    assert len(number) == 56
    assert number.startswith("49")
    assert str(sequence.shard_base(shard) + (offset << sequence.OFFSET_SHIFT)) == number
    # AWS's layout read in hexadecimal, as kinesalite parses it: version 2, sequence index and shard index in place.
    digits = format(int(number), "x")
    assert len(digits) == 47
    assert digits[0] == "2"
    assert digits[-1] == "2"
    assert int(digits[11:27], 16) == offset
    assert int(digits[38:46], 16) == shard
    assert int(digits[10], 16) == shard % 16


def test_the_34_digit_numbers_of_earlier_versions_still_decode() -> None:
    assert sequence.decode("49" + f"{5:012d}" + f"{123:020d}") == (5, 123)


def test_iterators_are_standard_base64_opening_like_aws() -> None:
    import base64

    token = iterators.encode(iterators.ShardIterator("a" * 128, 2**31, 2**62, 1_000), KEY)
    assert token.startswith("AAAAAAAAAAE")
    assert "-" not in token
    assert "_" not in token
    assert base64.b64decode(token, validate=True)[:8] == (1).to_bytes(8, "big")
    assert len(token) <= 512  # the model's ShardIterator maximum, with the longest stream name


def test_url_safe_alphabet_is_not_an_iterator() -> None:
    token = iterators.encode(iterators.ShardIterator("s", 0, 7, 1_000), KEY)
    with pytest.raises(InvalidArgumentException):
        iterators.decode(token.replace("+", "-").replace("/", "_") + "-", KEY, now_ms=1_000)
