"""Bulk decoding with bad records mixed in: every good record kept in order, every bad one routed, few parses."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import orjson
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.decode import Decoder
from tests.unit.analytics.support import BASE_MS, GAME, iso

ROOT = Path(__file__).resolve().parents[3]

BAD_VALUES: tuple[bytes | None, ...] = (
    b'{"event_id": "x", "event_time": ',  # truncated JSON
    b"not json at all",
    b"[1, 2, 3]",  # JSON, but not an object
    b'{"event_id": "x", "event_type": "score", "event_time": "2026-11-27T08:00:00.000Z", "points": "many"}',
    b"",
    None,
)


def good_value(i: int) -> bytes:
    event = {"event_id": f"e{i}", "event_type": "score", "event_time": iso(BASE_MS + i), "player_id": f"p{i % 7}",
             "points": i}  # fmt: skip
    return orjson.dumps(event)


class CountingDecoder(Decoder):
    """Counts the bulk parses, so the cost of finding bad records is checked without timing anything."""

    parses = 0

    def _parse(self, lines: Sequence[bytes]) -> pa.Table:
        self.parses += 1
        return super()._parse(lines)

    def _parse_one(self, value: bytes | None) -> pa.Table:
        self.parses += 1
        return super()._parse_one(value)


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=400),
    bad=st.dictionaries(st.integers(min_value=0, max_value=399), st.sampled_from(BAD_VALUES), max_size=12),
)
def test_good_records_kept_in_order_and_bad_ones_routed(size: int, bad: dict[int, bytes | None]) -> None:
    bad = {i: v for i, v in bad.items() if i < size}
    values = [bad[i] if i in bad else good_value(i) for i in range(size)]
    offsets = list(range(1000, 1000 + size))
    table, routed = Decoder(GAME, "q").decode(3, offsets, values)
    good = [i for i in range(size) if i not in bad]
    assert table.column("__offset").to_pylist() == [1000 + i for i in good]
    assert table.column("points").to_pylist() == good
    assert set(table.column("__partition").to_pylist()) <= {3}
    assert sorted(r.offset for r in routed) == sorted(1000 + i for i in bad)
    assert all(r.reason.startswith("malformed record") and r.partition == 3 for r in routed)


def test_a_record_spread_over_lines_is_kept() -> None:
    pretty = orjson.dumps(orjson.loads(good_value(1)), option=orjson.OPT_INDENT_2)
    table, routed = Decoder(GAME, "q").decode(0, [0, 1, 2], [good_value(0), pretty, good_value(2)])
    assert routed == []
    assert table.column("points").to_pylist() == [0, 1, 2]


def test_one_bad_record_in_a_large_batch_costs_a_few_parses_not_one_per_record() -> None:
    size = 4096
    values: list[bytes | None] = [good_value(i) for i in range(size)]
    values[2917] = b"{broken"
    decoder = CountingDecoder(GAME, "q")
    table, routed = decoder.decode(0, range(size), values)
    assert [r.offset for r in routed] == [2917]
    assert table.num_rows == size - 1
    # The failed parse of the whole batch, two per halving down to a run of 8 (9 halvings: one half fails, the other
    # is kept whole), then that run record by record (8 parses of one record).
    assert decoder.parses == 1 + 2 * 9 + 8, decoder.parses


def test_oversized_records_are_routed_unread_and_the_rest_parsed_in_bulk() -> None:
    size = 2048
    padded = orjson.dumps({**orjson.loads(good_value(5)), "padding": "x" * 300_000})
    values: list[bytes | None] = [good_value(i) for i in range(size)]
    values[5] = values[1500] = padded
    decoder = CountingDecoder(GAME, "q", max_record_bytes=131_072)
    table, routed = decoder.decode(0, range(size), values)
    assert [r.offset for r in routed] == [5, 1500]
    assert all(r.reason.startswith("oversized record: 300,") for r in routed)
    assert table.column("__offset").to_pylist() == [i for i in range(size) if i not in (5, 1500)]
    assert decoder.parses == 3  # the three runs between them, each in one parse: no bisection


NULL_CHILD = """
import orjson
from analytics.decode import Decoder
from tests.unit.analytics.support import BASE_MS, GAME, iso

def record(i):  # exactly 99 bytes, so line i starts at byte 100 * i of the batch
    event = {"event_id": "", "event_type": "score", "event_time": iso(BASE_MS + i), "player_id": "p", "points": 1}
    event["event_id"] = "e" * (99 - len(orjson.dumps(event)))
    return orjson.dumps(event)

for at in (0, 2621):  # the first record, and the first of the reader's second 256 KiB block
    values = [record(i) for i in range(3000)]
    values[at] = b"null"
    table, bad = Decoder(GAME, "q").decode(0, range(3000), values)
    print(table.num_rows, [(b.offset, b.reason) for b in bad])
"""


def test_a_null_record_at_the_start_of_a_block_is_routed_instead_of_crashing_the_engine() -> None:
    """A JSON ``null`` that starts one of the reader's blocks made pyarrow's JSON reader crash the process
    (segmentation fault); run in a child process so that a crash fails this test instead of the test run."""
    done = subprocess.run(
        [sys.executable, "-c", NULL_CHILD], capture_output=True, text=True, timeout=120, cwd=ROOT, check=False
    )
    assert done.returncode == 0, f"exit code {done.returncode}: {done.stderr[-2000:]}"
    lines = done.stdout.splitlines()
    assert lines == [
        "2999 [(0, 'malformed record: a record must be a JSON object, got null')]",
        "2999 [(2621, 'malformed record: a record must be a JSON object, got null')]",
    ]
