import orjson
import pytest

from emulator.aws.compacted import PARSE_ERRORS
from emulator.kinesis.streams import Stream
from producers.shard_map import ShardMap

pytestmark = pytest.mark.unit


def test_a_record_written_before_resharding_existed_reads_as_the_even_split() -> None:
    old = {"shard_count": 3, "created_ms": 5, "retention_hours": 24, "tags": {}}
    stream = Stream.from_record("orders", old)
    assert stream.shard_map == ShardMap.uniform(3, 5)
    assert not stream.shard_map.resharded
    # ...and a stream never resharded writes the record it always wrote: no shard map in it.
    assert "shards" not in orjson.loads(stream.to_record())


def test_a_resharded_map_and_its_scalings_round_trip_through_the_record() -> None:
    shard_map = ShardMap.uniform(2, 5).split(0, 2**100, 9).with_end_offset(0, 17)
    stream = Stream("orders", shard_map, "ACTIVE", 5, scalings=[9])
    back = Stream.from_record("orders", orjson.loads(stream.to_record()))
    assert back.shard_map == shard_map
    assert back.scalings == [9]
    assert (back.shard_count, back.open_shard_count) == (4, 3)


@pytest.mark.parametrize(
    "shards",
    [
        "not a list",
        [{"i": 0, "start": "0", "end": "5"}],  # leaves most of the key space without a shard
        [{"i": 0, "start": 0, "end": str(2**128 - 1)}],  # a hash key that is not a string
        [{"i": 0}],
        [7],
    ],
)
def test_a_damaged_shard_map_is_refused_with_an_error_the_loader_skips(shards: object) -> None:
    with pytest.raises(PARSE_ERRORS):
        Stream.from_record("orders", {"shard_count": 1, "shards": shards})
