"""The records path (realism on ``(key, bytes)`` records) gives exactly what the dict path gives, draw for draw."""

from collections.abc import Callable

import orjson
import pytest

from producers import GeneratorConfig, RealismConfig, Record, RecordSource, StreamKind
from producers.generators import make_generator
from producers.generators.base import Event, RecordGenerator
from producers.generators.game import GameGenerator
from producers.realism import record_event_time

pytestmark = pytest.mark.unit

START_MS = 1_795_000_000_123
#: Uneven chunk sizes, so held events cross chunk boundaries and a chunk of one is covered.
CHUNKS = (1, 7, 1000, 4096, 333, 2500)
#: (out-of-order ratio, malformed ratio): the demo's, heavy ones for both, and each on its own.
RATIOS = [(0.02, 0.005), (0.3, 0.3), (0.3, 0.0), (0.0, 0.3), (1.0, 0.0), (0.0, 1.0)]


def record_kinds() -> list[StreamKind]:
    kinds = [
        kind
        for kind in StreamKind
        if isinstance(make_generator(GeneratorConfig(kind=kind, start_time_ms=START_MS)), RecordGenerator)
    ]
    assert StreamKind.GAME in kinds
    return kinds


def realism(out_of_order: float, malformed: float) -> RealismConfig:
    return RealismConfig(
        out_of_order_ratio=out_of_order,
        malformed_ratio=malformed,
        out_of_order_mean_delay_ms=300,
        out_of_order_max_delay_ms=2_000,
        oversized_bytes=2_048,
    )


def run(source: RecordSource) -> list[list[Record]]:
    """Every chunk's records, then the drained ones, kept apart so a record moved across a chunk would show."""
    return [source.next_records(n) for n in CHUNKS] + [source.drain()]


def assert_same(records_path: RecordSource, dict_path: RecordSource) -> list[list[Record]]:
    assert records_path._records is not None
    assert records_path._direct is None
    assert dict_path._records is None
    got, expected = run(records_path), run(dict_path)
    assert got == expected
    assert records_path.generated == dict_path.generated == sum(CHUNKS)
    assert records_path.disorder.delayed == dict_path.disorder.delayed
    assert records_path.corruptor.counts == dict_path.corruptor.counts
    # Both consumed the realism stream to the same point.
    assert records_path._rng_random() == dict_path._rng_random()
    return got


@pytest.mark.parametrize("kind", record_kinds())
@pytest.mark.parametrize("seed", [0, 1, 42])
@pytest.mark.parametrize(("out_of_order", "malformed"), RATIOS)
def test_records_path_gives_the_dict_paths_records_byte_for_byte(
    kind: StreamKind, seed: int, out_of_order: float, malformed: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 50k events/s: many events share a millisecond, so ties in release times are exercised too.
    config = GeneratorConfig(kind=kind, seed=seed, start_time_ms=START_MS, events_per_second=50_000)
    parsed: list[bytes] = []

    def counting_parse(value: bytes) -> bytes:
        parsed.append(value)
        return record_event_time(value)

    monkeypatch.setattr("producers.realism.record_event_time", counting_parse)
    fast = RecordSource(make_generator(config), realism(out_of_order, malformed), seed)
    slow = RecordSource(make_generator(config), realism(out_of_order, malformed), seed, records_path=False)
    chunks = assert_same(fast, slow)
    # The generator writes its event time where the records path looks for it: nothing was parsed to find it.
    assert parsed == []
    if out_of_order:
        assert fast.disorder.delayed > 0
        assert chunks[-1] or out_of_order < 0.05  # the heavy ratios always leave some held at the end
    if malformed:
        assert sum(fast.corruptor.counts.values()) > 0


class ReshapedGame:
    """A record generator whose event times are not 24 characters: the records path must parse them instead."""

    key_field = "player_id"

    def __init__(self, seed: int, reshape: Callable[[str], str]) -> None:
        self._inner = GameGenerator(seed, START_MS, 20_000)
        self._reshape = reshape

    def next_chunk(self, n: int) -> list[Event]:
        events = self._inner.next_chunk(n)
        for event in events:
            event["event_time"] = self._reshape(event["event_time"])
        return events

    def next_records(self, n: int) -> list[Record]:
        return [(e[self.key_field], orjson.dumps(e)) for e in self.next_chunk(n)]


@pytest.mark.parametrize(
    "reshape",
    [
        lambda t: t[:19] + "Z",  # seconds only: shorter, so no quote after 24 characters
        lambda t: t[:23] + "000Z",  # microseconds: longer
    ],
    ids=["seconds", "micros"],
)
def test_event_times_of_another_shape_fall_back_to_parsing_and_still_match(
    reshape: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[bytes] = []

    def counting_parse(value: bytes) -> bytes:
        parsed.append(value)
        return record_event_time(value)

    monkeypatch.setattr("producers.realism.record_event_time", counting_parse)
    config = realism(0.3, 0.3)
    fast = RecordSource(ReshapedGame(5, reshape), config, 5)
    slow = RecordSource(ReshapedGame(5, reshape), config, 5, records_path=False)
    assert_same(fast, slow)
    assert parsed  # the times were parsed, not sliced at the wrong place (that would not have matched)


def test_no_realism_still_takes_the_direct_path() -> None:
    config = GeneratorConfig(kind=StreamKind.GAME, seed=3, start_time_ms=START_MS, events_per_second=1000)
    source = RecordSource(make_generator(config), RealismConfig(), 3)
    assert source._direct is not None
    records = source.next_records(100)
    assert source.drain() == []
    assert [orjson.loads(value)["player_id"] for _, value in records] == [key for key, _ in records]


def test_record_event_time_parses_and_rejects_a_time_that_is_not_a_string() -> None:
    assert record_event_time(b'{"event_time":"2026-11-27T08:00:00Z","x":1}') == b"2026-11-27T08:00:00Z"
    with pytest.raises(TypeError, match="event_time must be a string"):
        record_event_time(b'{"event_time":5}')
