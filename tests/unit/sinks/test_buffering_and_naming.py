"""Buffering decisions (size or interval, whichever first), planned cuts, and deterministic object names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from sinks.buffering import FlushReason, PartitionBuffer, admits, decode_plan, encode_plan, flush_reason
from sinks.config import BufferingHints
from sinks.naming import DATA_EXTENSION, object_name, random_string, record_time

MIB = 1024 * 1024


def test_empty_buffer_never_flushes() -> None:
    assert flush_reason(BufferingHints(size_mib=1, interval_s=0), 0, None) is None


def test_size_hint_flushes_when_reached() -> None:
    hints = BufferingHints(size_mib=5, interval_s=300)
    assert flush_reason(hints, 5 * MIB - 1, 1.0) is None
    assert flush_reason(hints, 5 * MIB, 1.0) is FlushReason.SIZE


def test_interval_hint_flushes_when_the_oldest_record_waited_long_enough() -> None:
    hints = BufferingHints(size_mib=5, interval_s=60)
    assert flush_reason(hints, 100, 59.9) is None
    assert flush_reason(hints, 100, 60.0) is FlushReason.INTERVAL


def test_whichever_comes_first_size_wins_ties() -> None:
    assert flush_reason(BufferingHints(size_mib=1, interval_s=1), MIB, 2.0) is FlushReason.SIZE


def test_interval_zero_flushes_every_poll() -> None:
    assert flush_reason(BufferingHints(size_mib=128, interval_s=0), 1, 0.0) is FlushReason.INTERVAL


@pytest.mark.parametrize(("size", "interval"), [(0, 60), (129, 60), (5, -1), (5, 901)])
def test_hints_outside_firehose_ranges_are_refused(size: int, interval: int) -> None:
    with pytest.raises(ValidationError):
        BufferingHints(size_mib=size, interval_s=interval)


def test_partition_buffer_tracks_offsets_and_size() -> None:
    buffer = PartitionBuffer(3)
    buffer.add(10, 1000, b"abc")
    buffer.add(12, 1001, b"de")
    assert (len(buffer), buffer.first_offset, buffer.last_offset, buffer.size) == (2, 10, 12, 5)


def test_plan_round_trip_and_admission() -> None:
    assert decode_plan(encode_plan(1499)) == 1499
    assert decode_plan("") is None
    assert decode_plan(None) is None
    assert decode_plan("kemu-cut:nonsense") is None
    assert decode_plan("someone else's metadata") is None
    assert admits(None, 10**9)
    assert admits(1499, 1499)
    assert not admits(1499, 1500)


def test_object_name_is_a_pure_function_of_the_first_record() -> None:
    when = record_time(1_795_000_000_123)
    name = object_name("clicks", "clickstream", 2, 1500, when, DATA_EXTENSION)
    assert name == object_name("clicks", "clickstream", 2, 1500, record_time(1_795_000_000_123), DATA_EXTENSION)
    assert name == f"clicks-1-{when:%Y-%m-%d-%H-%M-%S}-clickstream-2-00000000000000001500.parquet"
    assert name != object_name("clicks", "clickstream", 2, 1501, when, DATA_EXTENSION)
    assert name != object_name("clicks", "clickstream", 3, 1500, when, DATA_EXTENSION)


def test_names_sort_by_offset_within_a_partition() -> None:
    when = datetime(2026, 11, 27, tzinfo=UTC)
    names = [object_name("s", "t", 0, offset, when, DATA_EXTENSION) for offset in (9, 10, 100, 5)]
    assert sorted(names) == [object_name("s", "t", 0, o, when, DATA_EXTENSION) for o in (5, 9, 10, 100)]


def test_random_string_is_stable_and_eleven_hex_characters() -> None:
    value = random_string("t", 0, 42)
    assert value == random_string("t", 0, 42) != random_string("t", 0, 43)
    assert len(value) == 11
    assert int(value, 16) >= 0


def test_record_time_is_utc() -> None:
    assert record_time(0) == datetime(1970, 1, 1, tzinfo=UTC)
