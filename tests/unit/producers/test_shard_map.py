import random

import pytest

from producers.partitioning import MAX_HASH_KEY, hash_key_of, shard_for_partition_key, shard_hash_key_ranges
from producers.shard_map import ReshardError, Shard, ShardMap

pytestmark = pytest.mark.unit


def _open_ranges(shard_map: ShardMap) -> list[tuple[int, int, int]]:
    return [(s.index, s.start, s.end) for s in shard_map.open_shards]


@pytest.mark.parametrize("count", [1, 2, 3, 7, 64])
def test_uniform_map_routes_as_the_even_split(count: int) -> None:
    shard_map = ShardMap.uniform(count)
    assert [(s.start, s.end) for s in shard_map] == [tuple(r) for r in shard_hash_key_ranges(count)]
    for key in [f"k{i}" for i in range(300)]:
        assert shard_map.partition_for(key) == shard_for_partition_key(key, count)
    assert shard_map.route(0) == 0
    assert shard_map.route(MAX_HASH_KEY) == count - 1
    assert not shard_map.resharded


def test_split_closes_the_parent_and_opens_two_children_as_new_partitions() -> None:
    shard_map = ShardMap.uniform(2, opened_ms=100).split(0, 2**126, now_ms=200)
    parent = shard_map.shards[0]
    assert not parent.is_open
    assert parent.closed_ms == 200
    half = 2**127
    assert _open_ranges(shard_map) == [(2, 0, 2**126 - 1), (3, 2**126, half - 1), (1, half, MAX_HASH_KEY)]
    assert [(c.index, c.parent, c.adjacent_parent) for c in shard_map.children(0)] == [(2, 0, None), (3, 0, None)]
    assert shard_map.children(1) == []
    assert shard_map.route(2**126 - 1) == 2
    assert shard_map.route(2**126) == 3
    assert shard_map.route(half) == 1


@pytest.mark.parametrize("new_start", [0, 1, 2**127 - 1, 2**127, MAX_HASH_KEY])
def test_split_refuses_a_starting_hash_key_outside_the_parent(new_start: int) -> None:
    # Shard 0 of two owns [0, 2^127 - 1]: the new start must be above start + 1 and below the end.
    with pytest.raises(ReshardError, match="greater than one plus the shard's StartingHashKey 0"):
        ShardMap.uniform(2).split(0, new_start, now_ms=1)


def test_split_and_merge_refuse_closed_shards() -> None:
    shard_map = ShardMap.uniform(2).split(0, 2**100, now_ms=1)
    with pytest.raises(ReshardError, match="not eligible for splitting"):
        shard_map.split(0, 2**99, now_ms=2)
    with pytest.raises(ReshardError, match="not eligible for merging"):
        shard_map.merge(0, 1, now_ms=2)
    with pytest.raises(LookupError):
        shard_map.split(9, 2**99, now_ms=2)


def test_merge_takes_adjacent_open_shards_only() -> None:
    shard_map = ShardMap.uniform(3, opened_ms=5)
    with pytest.raises(ReshardError, match="adjacent"):
        shard_map.merge(0, 2, now_ms=10)
    merged = shard_map.merge(2, 1, now_ms=10)
    child = merged.shards[3]
    assert (child.parent, child.adjacent_parent) == (2, 1)
    assert (child.start, child.end) == (shard_map.shards[1].start, MAX_HASH_KEY)
    assert merged.children(1) == [child]
    assert merged.children(2) == [child]
    assert _open_ranges(merged) == [(0, 0, shard_map.shards[0].end), (3, child.start, MAX_HASH_KEY)]


@pytest.mark.parametrize(("before", "after"), [(2, 4), (4, 2), (3, 5), (5, 3), (1, 2), (2, 1)])
def test_uniform_scaling_closes_every_open_shard_and_opens_even_ranges(before: int, after: int) -> None:
    shard_map = ShardMap.uniform(before, opened_ms=1).scale(after, now_ms=50)
    assert [s.index for s in shard_map.open_shards] == list(range(before, before + after))
    assert [(s.start, s.end) for s in shard_map.open_shards] == [tuple(r) for r in shard_hash_key_ranges(after)]
    for old in range(before):
        children = shard_map.children(old)
        assert children, f"old shard {old} has no children"
        for child in children:
            assert child.overlaps(shard_map.shards[old])
    for child in shard_map.open_shards:
        parents = {child.parent, child.adjacent_parent} - {None}
        assert all(shard_map.shards[p].overlaps(child) for p in parents if p is not None)


def test_each_reshard_gets_its_own_millisecond_so_children_are_exact() -> None:
    # Two reshards in the same millisecond: the grandchildren must not count as children of the first parent.
    shard_map = ShardMap.uniform(1, opened_ms=7).split(0, 2**127, now_ms=7).split(1, 2**64, now_ms=7)
    assert [c.index for c in shard_map.children(0)] == [1, 2]
    assert [c.index for c in shard_map.children(1)] == [3, 4]
    assert shard_map.shards[1].closed_ms == shard_map.shards[3].opened_ms > shard_map.shards[0].closed_ms


def test_random_reshards_keep_the_open_shards_a_partition_of_the_key_space() -> None:
    rng = random.Random(16)
    shard_map = ShardMap.uniform(2)
    keys = [hash_key_of(f"key-{i}") for i in range(200)]
    for step in range(60):
        open_shards = shard_map.open_shards
        choice = rng.random()
        if choice < 0.45:
            shard = rng.choice([s for s in open_shards if s.end - s.start > 3] or list(open_shards))
            if shard.end - shard.start > 3:
                shard_map = shard_map.split(shard.index, rng.randint(shard.start + 2, shard.end - 1), step)
        elif choice < 0.9 and len(open_shards) > 1:
            at = rng.randrange(len(open_shards) - 1)
            shard_map = shard_map.merge(open_shards[at].index, open_shards[at + 1].index, step)
        else:
            count = len(open_shards)
            shard_map = shard_map.scale(rng.randint((count + 1) // 2, min(2 * count, 12)), step)
        for key in keys:  # every key has exactly one open shard, the one route() names
            holders = [s.index for s in shard_map.open_shards if s.holds(key)]
            assert holders == [shard_map.route(key)]
        assert ShardMap.from_json(shard_map.to_json()) == shard_map


def test_json_round_trip_and_refusals() -> None:
    shard_map = ShardMap.uniform(2, opened_ms=3).merge(0, 1, now_ms=9).with_end_offset(0, 12)
    assert ShardMap.from_json(shard_map.to_json()) == shard_map
    assert shard_map.closing() == [1]
    with pytest.raises(TypeError):
        Shard.from_json({"i": 0, "start": 0, "end": "5"})
    with pytest.raises(ValueError, match="cover"):
        ShardMap.from_json([{"i": 0, "start": "1", "end": str(MAX_HASH_KEY)}])
    with pytest.raises(ValueError, match="numbered"):
        ShardMap.from_json([{"i": 1, "start": "0", "end": str(MAX_HASH_KEY)}])
