import itertools

import pytest

from emulator.kinesis import lineage, sequence
from producers.partitioning import shard_id
from producers.shard_map import ShardMap

pytestmark = pytest.mark.unit

HOUR_MS = 3_600_000
CREATED = 10 * HOUR_MS


def resharded() -> ShardMap:
    """Two shards created at CREATED; shard 1 split 30 hours later into 2 and 3; 2 and 0 merged 5 hours after."""
    shard_map = ShardMap.uniform(2, CREATED).split(1, 2**127 + 2**64, CREATED + 30 * HOUR_MS)
    shard_map = shard_map.with_end_offset(1, 40)
    return shard_map.merge(0, 2, CREATED + 35 * HOUR_MS).with_end_offset(0, 0)


def listed(kind: str | None, now_ms: int = CREATED + 40 * HOUR_MS, **kwargs: int) -> list[int]:
    shards = lineage.filter_shards(resharded(), kind, now_ms=now_ms, created_ms=CREATED, retention_hours=24, **kwargs)
    return [shard.index for shard in shards]


def test_filters_as_aws_defines_them() -> None:
    assert listed(None) == [0, 1, 2, 3, 4]
    assert listed("AT_LATEST") == [3, 4]
    # Trim horizon 16 hours after creation: shards 0 and 1 were open then, and everything opened since counts FROM.
    assert listed("AT_TRIM_HORIZON") == [0, 1]
    assert listed("FROM_TRIM_HORIZON") == [0, 1, 2, 3, 4]
    # 70 hours on, the horizon is past the split and the merge: only what was open at the horizon is AT it.
    assert listed("AT_TRIM_HORIZON", now_ms=CREATED + 70 * HOUR_MS) == [3, 4]
    assert listed("AT_TIMESTAMP", timestamp_ms=CREATED + 32 * HOUR_MS) == [0, 2, 3]
    assert listed("FROM_TIMESTAMP", timestamp_ms=CREATED + 32 * HOUR_MS) == [0, 2, 3, 4]
    assert listed("AT_TIMESTAMP", timestamp_ms=0) == [0, 1]  # before the stream: as at its creation
    assert listed("AFTER_SHARD_ID", after_index=2) == [3, 4]


@pytest.mark.parametrize("at_hours", [0, 29, 30, 31, 35, 36, 100])
def test_every_at_filter_covers_the_key_space_once(at_hours: int) -> None:
    shard_map = resharded()
    shards = lineage.filter_shards(
        shard_map,
        "AT_TIMESTAMP",
        timestamp_ms=CREATED + at_hours * HOUR_MS,
        now_ms=CREATED + 200 * HOUR_MS,
        created_ms=CREATED,
        retention_hours=24,
    )
    ranges = sorted((shard.start, shard.end) for shard in shards)
    assert ranges[0][0] == 0
    assert all(a[1] + 1 == b[0] for a, b in itertools.pairwise(ranges))


def test_descriptions_carry_lineage_and_ending_numbers() -> None:
    shard_map = resharded()
    parent = lineage.describe(shard_map.shards[1])
    assert parent["SequenceNumberRange"]["EndingSequenceNumber"] == sequence.encode(1, 39)
    empty_parent = lineage.describe(shard_map.shards[0])  # closed with no record: ends where it starts
    assert empty_parent["SequenceNumberRange"]["EndingSequenceNumber"] == sequence.starting_sequence_number(0)
    merged = lineage.describe(shard_map.shards[4])
    assert (merged["ParentShardId"], merged["AdjacentParentShardId"]) == (shard_id(0), shard_id(2))
    assert "EndingSequenceNumber" not in merged["SequenceNumberRange"]
    closing = lineage.describe(shard_map.shards[2])  # closed, end not recorded yet: shown as still open
    assert "EndingSequenceNumber" not in closing["SequenceNumberRange"]
    children = lineage.child_shards(shard_map, 1)
    assert [(c["ShardId"], c["ParentShards"]) for c in children] == [
        (shard_id(2), [shard_id(1)]),
        (shard_id(3), [shard_id(1)]),
    ]
    assert lineage.child_shards(shard_map, 2) == [
        {
            "ShardId": shard_id(4),
            "ParentShards": [shard_id(0), shard_id(2)],
            "HashKeyRange": merged["HashKeyRange"],
        }
    ]
