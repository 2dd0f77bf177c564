import collections
import random

import orjson
import pytest
from pydantic import ValidationError

from producers import EVENT_MODELS, MALFORMED_KINDS, GeneratorConfig, RealismConfig, RecordSource, StreamKind
from producers.generators import make_generator
from producers.realism import malformed
from tests.support.record_sources import START_MS, record_source

pytestmark = pytest.mark.unit


def source(kind: StreamKind, realism: RealismConfig, seed: int = 11, rate: float = 1000.0) -> RecordSource:
    return record_source(kind, seed, rate, realism)


def all_records(src: RecordSource, n: int) -> list[tuple[str, bytes]]:
    records = []
    for _ in range(n // 1000):
        records.extend(src.next_records(1000))
    records.extend(src.drain())
    return records


def test_out_of_order_ratio_and_delays_are_as_configured_and_nothing_is_lost() -> None:
    realism = RealismConfig(out_of_order_ratio=0.1, out_of_order_mean_delay_ms=500, out_of_order_max_delay_ms=3000)
    disordered = source(StreamKind.GAME, realism)
    records = all_records(disordered, 50_000)
    tidy = all_records(source(StreamKind.GAME, RealismConfig()), 50_000)
    # The same events, only in another order: realism draws from its own random stream.
    assert sorted(records) == sorted(tidy)
    assert disordered.disorder.delayed / 50_000 == pytest.approx(0.1, rel=0.05)
    # How late each late event is: behind the newest event time already emitted.
    times = [orjson.loads(value)["event_time"] for _, value in records]
    latest = ""
    lateness_ms = []
    from datetime import datetime

    for t in times:
        if t < latest:
            lateness_ms.append((datetime.fromisoformat(latest) - datetime.fromisoformat(t)).total_seconds() * 1000)
        latest = max(latest, t)
    assert max(lateness_ms) <= 3000 + 2
    assert len(lateness_ms) / len(times) == pytest.approx(0.1, rel=0.1)
    # The exponential delay (mean 500 ms, cap 3 s) seen from the stream: the mean lateness is close to it.
    assert sum(lateness_ms) / len(lateness_ms) == pytest.approx(500, rel=0.15)


def test_no_realism_means_event_time_order() -> None:
    records = all_records(source(StreamKind.IOT, RealismConfig()), 5_000)
    times = [orjson.loads(value)["event_time"] for _, value in records]
    assert times == sorted(times)


@pytest.mark.parametrize("kind", list(StreamKind))
def test_malformed_ratio_and_every_shape_is_really_malformed(kind: StreamKind) -> None:
    realism = RealismConfig(malformed_ratio=0.05, oversized_bytes=4096)
    src = source(kind, realism)
    records = all_records(src, 40_000)
    model = EVENT_MODELS[kind.value]
    bad = 0
    for key, value in records:
        try:
            event = model.model_validate(orjson.loads(value))
        except (orjson.JSONDecodeError, ValidationError):
            bad += 1
            continue
        assert getattr(event, kind.partition_key_field) == key
    assert bad == sum(src.corruptor.counts.values())
    assert bad / len(records) == pytest.approx(0.05, rel=0.1)
    assert set(src.corruptor.counts) == set(MALFORMED_KINDS)


def test_each_malformed_kind_has_its_shape() -> None:
    rng = random.Random(1)
    event = make_generator(
        GeneratorConfig(kind=StreamKind.GAME, seed=1, start_time_ms=START_MS, events_per_second=10)
    ).next_chunk(1)[0]
    for _ in range(50):
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(malformed("bad_json", event, rng, "player_id", 2048))
        missing = orjson.loads(malformed("missing_field", event, rng, "player_id", 2048))
        assert len(missing) == len(event) - 1
        assert set(missing) < set(event)
        assert set(event) - set(missing) <= {"event_id", "event_type", "event_time", "player_id"}
        mistyped = orjson.loads(malformed("wrong_type", event, rng, "player_id", 2048))
        assert set(mistyped) == set(event)
        assert [k for k in event if type(event[k]) is not type(mistyped[k])] != []
        assert mistyped["player_id"] == event["player_id"]
        oversized = malformed("oversized", event, rng, "player_id", 2048)
        assert len(oversized) > 2048
        assert {k: v for k, v in orjson.loads(oversized).items() if k != "padding"} == event
    with pytest.raises(ValueError, match="unknown malformed kind"):
        malformed("nonsense", event, rng, "player_id", 2048)


def test_realism_is_reproducible_with_the_seed() -> None:
    realism = RealismConfig(out_of_order_ratio=0.2, malformed_ratio=0.1, oversized_bytes=2048)
    assert all_records(source(StreamKind.CLICKSTREAM, realism), 5_000) == all_records(
        source(StreamKind.CLICKSTREAM, realism), 5_000
    )


def test_keys_are_the_partition_key_field() -> None:
    for kind in StreamKind:
        records = all_records(source(kind, RealismConfig()), 2_000)
        keys = collections.Counter(key for key, _ in records)
        assert all(orjson.loads(value)[kind.partition_key_field] == key for key, value in records)
        assert len(keys) > 10


def test_without_realism_the_direct_record_path_gives_the_same_bytes_as_the_dict_path() -> None:
    config = GeneratorConfig(kind=StreamKind.GAME, seed=9, start_time_ms=1_795_000_000_000, events_per_second=5e4)
    direct = RecordSource(make_generator(config), RealismConfig(), 9)
    assert direct._direct is not None  # the game generator serializes its own events when no realism is asked
    via_dicts = RecordSource(make_generator(config), RealismConfig(), 9, records_path=False)
    assert via_dicts._direct is None
    for n in (3, 4096, 10_000):
        assert direct.next_records(n) == via_dicts.next_records(n)
    assert direct.generated == via_dicts.generated == 14_099
