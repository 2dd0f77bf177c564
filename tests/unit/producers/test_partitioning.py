import hashlib
import itertools

import pytest

from producers.partitioning import (
    MAX_HASH_KEY,
    hash_key_of,
    parse_explicit_hash_key,
    shard_for_hash_key,
    shard_for_partition_key,
    shard_hash_key_ranges,
    shard_id,
)

pytestmark = pytest.mark.unit


def test_hash_key_is_md5_read_big_endian() -> None:
    # RFC 1321 test vectors.
    assert hash_key_of("") == 0xD41D8CD98F00B204E9800998ECF8427E
    assert hash_key_of("abc") == 0x900150983CD24FB0D6963F7D28E17F72
    assert hash_key_of("message digest") == 0xF96B697D7CB7938D525A2F31AAF161D0
    # UTF-8, not Latin-1, for non-ASCII keys.
    assert hash_key_of("é") == int.from_bytes(hashlib.md5("é".encode(), usedforsecurity=False).digest(), "big")


def test_ranges_match_what_aws_returns_for_three_shards() -> None:
    ranges = shard_hash_key_ranges(3)
    assert [(r.starting_hash_key, r.ending_hash_key) for r in ranges] == [
        (0, 113427455640312821154458202477256070484),
        (113427455640312821154458202477256070485, 226854911280625642308916404954512140969),
        (226854911280625642308916404954512140970, 340282366920938463463374607431768211455),
    ]


@pytest.mark.parametrize("shards", [1, 2, 3, 4, 7, 64, 500])
def test_ranges_cover_the_key_space_without_gaps(shards: int) -> None:
    ranges = shard_hash_key_ranges(shards)
    assert ranges[0].starting_hash_key == 0
    assert ranges[-1].ending_hash_key == MAX_HASH_KEY
    for before, after in itertools.pairwise(ranges):
        assert after.starting_hash_key == before.ending_hash_key + 1


@pytest.mark.parametrize("shards", [1, 2, 3, 7, 64])
def test_shard_for_hash_key_agrees_with_the_ranges_at_every_edge(shards: int) -> None:
    for index, r in enumerate(shard_hash_key_ranges(shards)):
        assert shard_for_hash_key(r.starting_hash_key, shards) == index
        assert shard_for_hash_key(r.ending_hash_key, shards) == index


def test_partition_key_and_explicit_hash_key() -> None:
    # MD5("abc") starts with 0x90, above half the space: shard 1 of 2.
    assert shard_for_partition_key("abc", 2) == 1
    assert shard_for_partition_key("abc", 2, explicit_hash_key="0") == 0
    assert shard_for_partition_key("x", 4, explicit_hash_key=str(MAX_HASH_KEY)) == 3


@pytest.mark.parametrize("bad", ["-1", "1.5", "0x10", str(2**128), ""])
def test_bad_explicit_hash_keys_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="ExplicitHashKey"):
        parse_explicit_hash_key(bad)


def test_shard_id_format() -> None:
    assert shard_id(0) == "shardId-000000000000"
    assert shard_id(12) == "shardId-000000000012"
