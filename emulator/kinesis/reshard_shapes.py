"""Typed requests of the resharding operations (SplitShard, MergeShards, UpdateShardCount); botocore's model has
already checked their members' types and constraints (:mod:`emulator.aws.validation`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulator.aws.shapes import Wire, req_enum, req_int, req_str
from emulator.kinesis.shapes import HASH_KEY_RE, MAX_SHARD_ID, SHARD_ID_RE, stream_of

SCALING_TYPES = ("UNIFORM_SCALING",)


def _stream(body: dict[str, Any]) -> str:
    stream = stream_of(body)
    assert stream is not None  # noqa: S101 - stream_of(required=True) raises instead
    return stream


def _shard(body: dict[str, Any], key: str) -> str:
    return req_str(body, key, max_len=MAX_SHARD_ID, pattern=SHARD_ID_RE)


@dataclass(frozen=True, slots=True)
class SplitShardInput:
    stream: str
    shard: str
    new_starting_hash_key: int

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> SplitShardInput:
        key = req_str(body, "NewStartingHashKey", pattern=HASH_KEY_RE)
        return cls(_stream(body), _shard(body, "ShardToSplit"), int(key))


@dataclass(frozen=True, slots=True)
class MergeShardsInput:
    stream: str
    shard: str
    adjacent_shard: str

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> MergeShardsInput:
        return cls(_stream(body), _shard(body, "ShardToMerge"), _shard(body, "AdjacentShardToMerge"))


@dataclass(frozen=True, slots=True)
class UpdateShardCountInput:
    stream: str
    target: int
    scaling_type: str

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> UpdateShardCountInput:
        target = req_int(body, "TargetShardCount", low=1)
        return cls(_stream(body), target, req_enum(body, "ScalingType", SCALING_TYPES))
