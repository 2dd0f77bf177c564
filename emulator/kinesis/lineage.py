"""The shard map as the Kinesis API shows it: shard descriptions with their lineage, ``ListShards``' ShardFilter,
and the ``ChildShards`` a reader of a closed shard is handed at its end. Pure functions of the map and the times.

A closed shard's ``EndingSequenceNumber`` is the number of its last record (of offset 0 when it closed empty), once
the writes routed to it before the close have landed; until then it is shown without one, as a shard still open.
"""

from __future__ import annotations

from typing import Any

from emulator.kinesis import sequence
from producers.partitioning import shard_id
from producers.shard_map import Shard, ShardMap

HOUR_MS = 3_600_000


def ending_offset(shard: Shard) -> int | None:
    """The Kafka offset after a closed shard's last record, or None while it is open or closing."""
    return None if shard.is_open else shard.end_offset


def describe(shard: Shard) -> dict[str, Any]:
    """A shard as DescribeStream and ListShards list it."""
    numbers = {"StartingSequenceNumber": sequence.starting_sequence_number(shard.index)}
    end = ending_offset(shard)
    if end is not None:
        numbers["EndingSequenceNumber"] = sequence.encode(shard.index, max(0, end - 1))
    described: dict[str, Any] = {"ShardId": shard_id(shard.index)}
    if shard.parent is not None:
        described["ParentShardId"] = shard_id(shard.parent)
    if shard.adjacent_parent is not None:
        described["AdjacentParentShardId"] = shard_id(shard.adjacent_parent)
    described["HashKeyRange"] = {"StartingHashKey": str(shard.start), "EndingHashKey": str(shard.end)}
    described["SequenceNumberRange"] = numbers
    return described


def child_shards(shard_map: ShardMap, index: int) -> list[dict[str, Any]]:
    """``ChildShards`` of closed shard ``index``: each child with its parents and range."""
    return [
        {
            "ShardId": shard_id(child.index),
            "ParentShards": [shard_id(p) for p in (child.parent, child.adjacent_parent) if p is not None],
            "HashKeyRange": {"StartingHashKey": str(child.start), "EndingHashKey": str(child.end)},
        }
        for child in shard_map.children(index)
    ]


def _open_at(shard: Shard, at_ms: int) -> bool:
    return shard.opened_ms <= at_ms and (shard.closed_ms is None or shard.closed_ms > at_ms)


def _open_since(shard: Shard, at_ms: int) -> bool:
    return shard.closed_ms is None or shard.closed_ms > at_ms


def filter_shards(
    shard_map: ShardMap,
    filter_type: str | None,
    *,
    after_index: int | None = None,
    timestamp_ms: int | None = None,
    now_ms: int,
    created_ms: int,
    retention_hours: int,
) -> list[Shard]:
    """The shards ``ListShards`` returns for a ShardFilter, as AWS defines the types:

    - ``AT_LATEST``: the open shards;
    - ``AT_TRIM_HORIZON`` / ``FROM_TRIM_HORIZON``: the shards open at the trim horizon (the oldest record still
      kept: now minus the retention, not before the stream's creation) / those and every shard opened since;
    - ``AT_TIMESTAMP`` / ``FROM_TIMESTAMP``: the same at a given time (a time before the stream's creation reads as
      its creation);
    - ``AFTER_SHARD_ID``: every shard numbered after the given one.

    Every AT_ filter gives shards whose ranges cover the key space once, where a reader starts.
    """
    shards = list(shard_map)
    if filter_type is None:
        return shards
    if filter_type == "AT_LATEST":
        return [shard for shard in shards if shard.is_open]
    if filter_type == "AFTER_SHARD_ID":
        return shards[(after_index if after_index is not None else -1) + 1 :]
    if filter_type in ("AT_TRIM_HORIZON", "FROM_TRIM_HORIZON"):
        at = max(now_ms - retention_hours * HOUR_MS, created_ms)
    else:
        at = max(timestamp_ms if timestamp_ms is not None else now_ms, created_ms)
    if filter_type.startswith("AT_"):
        return [shard for shard in shards if _open_at(shard, at)]
    return [shard for shard in shards if _open_since(shard, at)]
