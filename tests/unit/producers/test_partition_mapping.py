import pytest

from producers import PartitionMapper, shard_for_partition_key
from producers.shard_map import ShardMap

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("key", "shards", "expected"),
    [
        # MD5("abc") = 900150983cd24fb0d6963f7d28e17f72: its top two bits are 10, so shard 2 of 4.
        ("abc", 4, 2),
        # MD5("") = d41d8cd98f00b204e9800998ecf8427e: top bit 1 → shard 1 of 2; 0xd4... * 3 / 2^8 → shard 2 of 3.
        ("", 2, 1),
        ("", 3, 2),
        # MD5("message digest") = f96b697d7cb7938d525a2f31aaf161d0 → the last shard of 16 (top nibble f).
        ("message digest", 16, 15),
        # MD5("a") = 0cc175b9c0f1b6a831c399e269772661 → shard 0 of 16 (top nibble 0), shard 0 of 4.
        ("a", 16, 0),
        ("a", 4, 0),
    ],
)
def test_mapper_follows_the_md5_vectors(key: str, shards: int, expected: int) -> None:
    assert PartitionMapper(shards)(key) == expected
    assert shard_for_partition_key(key, shards) == expected


def test_mapper_agrees_with_the_shared_function_for_many_keys() -> None:
    mapper = PartitionMapper(7)
    for i in range(5000):
        key = f"player-{i:06d}"
        assert mapper(key) == shard_for_partition_key(key, 7)
        assert mapper(key) == shard_for_partition_key(key, 7)  # cached path


def test_mapper_rejects_zero_shards() -> None:
    with pytest.raises(ValueError, match="at least one shard"):
        PartitionMapper(0)


def test_a_resharded_map_routes_to_its_open_shards_as_the_api_does() -> None:
    shard_map = ShardMap.uniform(2).split(0, 2**126, now_ms=1)
    mapper = PartitionMapper(shard_map)
    assert mapper.shards == 4  # the builders cover every partition, closed ones included
    for key in [f"user-{i}" for i in range(200)]:
        assert mapper(key) == shard_map.partition_for(key)
        assert mapper(key) != 0
