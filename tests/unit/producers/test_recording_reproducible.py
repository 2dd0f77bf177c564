"""A recording made twice with the same seed, start time and realism options is the same, byte for byte, however
the run cut it into chunks (a paced run cuts by the wall clock)."""

import random

import pytest

from emulator.cli.produce import DEFAULT_RATE, UNPACED_EVENT_TIME_RATE, pacing
from producers import GeneratorConfig, RealismConfig, Record, RecordSource, StreamKind
from producers.generators import make_generator

pytestmark = pytest.mark.unit

START_MS = 1_795_000_000_000


def recording(kind: StreamKind, chunks: list[int], records_path: bool) -> list[Record]:
    generator = make_generator(GeneratorConfig(kind=kind, seed=3, start_time_ms=START_MS, events_per_second=10_000))
    realism = RealismConfig(out_of_order_ratio=0.05, malformed_ratio=0.01, oversized_bytes=2_048)
    source = RecordSource(generator, realism, 3, records_path=records_path)
    out: list[Record] = []
    for n in chunks:
        out += source.next_records(n)
    return out + source.drain()


@pytest.mark.parametrize("kind", list(StreamKind))
@pytest.mark.parametrize("records_path", [True, False])
def test_out_of_order_and_malformed_together_do_not_depend_on_chunk_sizes(kind: StreamKind, records_path: bool) -> None:
    total = 20_000
    even = [4_096] * (total // 4_096) + [total % 4_096]
    rng = random.Random(9)
    uneven: list[int] = []
    while sum(uneven) < total:
        uneven.append(min(rng.choice([1, 3, 50, 200, 1_000]), total - sum(uneven)))
    assert recording(kind, even, records_path) == recording(kind, uneven, records_path)


def test_a_recording_is_written_as_fast_as_possible_unless_a_rate_is_given() -> None:
    assert pacing(None, recording=True) == (False, DEFAULT_RATE)
    assert pacing(2_000.0, recording=True) == (True, 2_000.0)
    assert pacing(None, recording=False) == (True, DEFAULT_RATE)
    assert pacing(0.0, recording=False) == (False, UNPACED_EVENT_TIME_RATE)
    assert pacing(0.0, recording=True) == (False, UNPACED_EVENT_TIME_RATE)
