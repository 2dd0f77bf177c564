"""Per-shard write throttling, the way provisioned Kinesis limits a shard (records/s and bytes/s).

Pure: each shard has two token buckets refilled continuously from an explicit clock; a record is admitted when
both buckets have room for it, and a rejected record consumes nothing. Off unless configured.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class _Bucket:
    records: float
    bytes: float
    updated_s: float


@dataclass(slots=True)
class ShardThrottle:
    """Admits or rejects records per (stream, shard); one second's worth of burst, like Kinesis."""

    records_per_second: int
    bytes_per_second: int
    _buckets: dict[tuple[str, int], _Bucket] = field(default_factory=dict)

    def admit(self, stream: str, shard: int, size: int, now_s: float) -> bool:
        bucket = self._buckets.get((stream, shard))
        if bucket is None:
            bucket = _Bucket(float(self.records_per_second), float(self.bytes_per_second), now_s)
            self._buckets[(stream, shard)] = bucket
        elapsed = max(0.0, now_s - bucket.updated_s)
        bucket.records = min(float(self.records_per_second), bucket.records + elapsed * self.records_per_second)
        bucket.bytes = min(float(self.bytes_per_second), bucket.bytes + elapsed * self.bytes_per_second)
        bucket.updated_s = now_s
        if bucket.records < 1 or bucket.bytes < size:
            return False
        bucket.records -= 1
        bucket.bytes -= size
        return True

    def forget(self, stream: str) -> None:
        for key in [key for key in self._buckets if key[0] == stream]:
            del self._buckets[key]
