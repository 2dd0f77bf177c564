import collections
import itertools
import random
import statistics
from datetime import datetime

import jsonschema
import orjson
import pytest

from producers import EVENT_MODELS, GeneratorConfig, StreamKind, make_generator
from producers.generators import ClickstreamGenerator, GameGenerator, IotGenerator, ZipfSampler
from producers.generators.clickstream import THINK_MEDIAN_S
from producers.generators.game import SKILL_PARETO_ALPHA
from producers.schemas import load_schema

pytestmark = pytest.mark.unit

START_MS = 1_795_000_000_000  # 2026-11-16T...


def events_of(kind: StreamKind, seed: int = 1, n: int = 3000, rate: float = 1000.0) -> list[dict]:
    generator = make_generator(GeneratorConfig(kind=kind, seed=seed, start_time_ms=START_MS, events_per_second=rate))
    return generator.next_chunk(n // 3) + generator.next_chunk(n - n // 3)


@pytest.mark.parametrize("kind", list(StreamKind))
def test_same_seed_same_events_and_another_seed_other_events(kind: StreamKind) -> None:
    first = [orjson.dumps(e) for e in events_of(kind, seed=42)]
    again = [orjson.dumps(e) for e in events_of(kind, seed=42)]
    other = [orjson.dumps(e) for e in events_of(kind, seed=43)]
    assert first == again
    assert first != other


@pytest.mark.parametrize("kind", list(StreamKind))
def test_events_match_their_model_and_the_kept_json_schema(kind: StreamKind) -> None:
    validator = jsonschema.Draft202012Validator(load_schema(kind.value))
    model = EVENT_MODELS[kind.value]
    for event in events_of(kind, n=3000):
        errors = [error.message for error in validator.iter_errors(event)]
        assert not errors, f"{event}: {errors}"
        assert model.model_validate(event).model_dump(mode="json", exclude_none=True).keys() <= event.keys()


@pytest.mark.parametrize("kind", list(StreamKind))
def test_event_times_never_go_back_and_ids_are_unique(kind: StreamKind) -> None:
    events = events_of(kind, n=5000)
    times = [e["event_time"] for e in events]
    assert times == sorted(times)
    assert len({e["event_id"] for e in events}) == len(events)
    first = datetime.fromisoformat(times[0]).timestamp() * 1000
    assert abs(first - START_MS) < 10_000


@pytest.mark.parametrize("kind", list(StreamKind))
def test_event_time_advances_at_the_configured_rate(kind: StreamKind) -> None:
    events = events_of(kind, n=20_000, rate=2_000.0)
    first, last = (datetime.fromisoformat(events[i]["event_time"]) for i in (0, -1))
    span_s = (last - first).total_seconds()
    # 20,000 events at 2,000 events/s span 10 s; IoT loses a little to silent devices, clickstream has Poisson noise.
    assert span_s == pytest.approx(10.0, rel=0.05)


def test_zipf_sampler_frequencies_match_the_law_within_three_percent() -> None:
    sampler = ZipfSampler(1000, 1.1, random.Random(7))
    n = 200_000
    counts = collections.Counter(sampler() for _ in range(n))
    for rank in range(5):
        assert counts[rank] / n == pytest.approx(sampler.probability(rank), rel=0.03)
    # Rank 1 is 2^1.1 ≈ 2.14 times as popular as rank 2, whatever the normalisation.
    assert counts[0] / counts[1] == pytest.approx(2**1.1, rel=0.05)


def test_clickstream_product_popularity_is_zipf() -> None:
    views = [e["product_id"] for e in events_of(StreamKind.CLICKSTREAM, n=60_000) if e["event_type"] == "page_view"]
    counts = collections.Counter(views)
    top = [product for product, _ in counts.most_common(3)]
    assert top == ["product-0", "product-1", "product-2"]
    assert counts["product-0"] / counts["product-1"] == pytest.approx(2**1.1, rel=0.15)


def test_clickstream_sessions_are_coherent_and_spaced_by_think_times() -> None:
    generator = ClickstreamGenerator(seed=3, start_time_ms=START_MS, events_per_second=200.0)
    events = generator.next_chunk(30_000)
    by_session: dict[str, list[dict]] = collections.defaultdict(list)
    for event in events:
        by_session[event["session_id"]].append(event)
    gaps = []
    for session in by_session.values():
        assert session[0]["event_type"] == "page_view"
        assert len({e["user_id"] for e in session}) == 1
        cart = 0
        for event in session:
            if event["event_type"] == "add_to_cart":
                cart += 1
                assert event["price"] > 0
            elif event["event_type"] == "purchase":
                assert cart > 0, "a purchase needs something in the cart"
                cart = 0
            elif event["event_type"] == "error":
                assert event["status_code"] >= 400
        times = [datetime.fromisoformat(e["event_time"]).timestamp() for e in session]
        gaps.extend(b - a for a, b in itertools.pairwise(times))
    # Log-normal think times: the median gap is the configured median (scaled if sessions had to be capped).
    assert statistics.median(gaps) == pytest.approx(THINK_MEDIAN_S * generator.think_scale, rel=0.1)
    types = collections.Counter(e["event_type"] for e in events)
    assert set(types) == {"page_view", "click", "add_to_cart", "purchase", "error"}


def test_game_has_a_few_players_much_stronger_than_most() -> None:
    generator = GameGenerator(seed=5, start_time_ms=START_MS, events_per_second=1000.0)
    # Pareto(alpha) has median 2^(1/alpha).
    assert statistics.median(generator.skill) == pytest.approx(2 ** (1 / SKILL_PARETO_ALPHA), rel=0.05)
    points: collections.Counter[str] = collections.Counter()
    for event in generator.next_chunk(100_000):
        assert event["points"] >= 0
        points[event["player_id"]] += event["points"]
    ranked = [p for _, p in points.most_common()]
    top_1_percent = sum(ranked[: len(ranked) // 100])
    assert top_1_percent / sum(ranked) > 0.08  # vs 0.01 if everyone were equal
    assert ranked[0] > 10 * statistics.median(ranked)


def test_game_matches_start_score_and_end_in_order() -> None:
    events = events_of(StreamKind.GAME, n=50_000)
    by_match: dict[str, list[str]] = collections.defaultdict(list)
    for event in events:
        by_match[event["match_id"]].append(event["event_type"])
    for types in by_match.values():
        assert types[0] == "match_start"
        assert "match_end" not in types[:-1]
        assert types.count("match_start") == 1


def test_iot_noise_drift_heartbeats_and_injected_anomalies() -> None:
    generator = IotGenerator(seed=9, start_time_ms=START_MS, events_per_second=1000.0, devices=50, anomaly_rate=0.01)
    events = generator.next_chunk(60_000)
    types = collections.Counter(e["event_type"] for e in events)
    assert types["heartbeat"] / len(events) == pytest.approx(0.1, abs=0.01)
    readings = [e for e in events if e["event_type"] == "reading"]
    anomalies = list(generator.anomalies)
    assert len(anomalies) == pytest.approx(0.01 * len(readings), rel=0.25)
    by_device: dict[str, list[dict]] = collections.defaultdict(list)
    for event in readings:
        by_device[event["device_id"]].append(event)
    anomalous_times = {(a.device_id, a.event_time_ms) for a in anomalies}
    # Noise: successive readings of a quiet device differ by about sqrt(2) * 0.15 °C.
    steps = [
        b["temperature"] - a["temperature"]
        for series in by_device.values()
        for a, b in itertools.pairwise(series)
        if abs(b["temperature"] - a["temperature"]) < 5
    ]
    assert statistics.stdev(steps) == pytest.approx(0.15 * 2**0.5, rel=0.3)
    kinds = collections.Counter(a.kind for a in anomalies)
    assert set(kinds) == {"spike", "stuck", "silent"}
    all_by_device: dict[str, list[int]] = collections.defaultdict(list)
    for event in events:
        all_by_device[event["device_id"]].append(int(datetime.fromisoformat(event["event_time"]).timestamp() * 1000))
    round_ms = 50  # 50 devices at 1000 events/s
    for anomaly in anomalies:
        series = by_device[anomaly.device_id]
        times = [int(datetime.fromisoformat(e["event_time"]).timestamp() * 1000) for e in series]
        if anomaly.kind == "spike":
            i = times.index(anomaly.event_time_ms)
            assert abs(series[i]["temperature"] - series[i - 1]["temperature"]) > 10
        elif anomaly.kind == "stuck" and anomaly.event_time_ms in times:
            i = times.index(anomaly.event_time_ms)
            following = series[i : i + 15]
            overlapping = any((anomaly.device_id, t) in anomalous_times for t in times[i + 1 : i + 15])
            if len(following) == 15 and not overlapping:
                assert len({(e["temperature"], e["humidity"], e["pressure"]) for e in following}) == 1
        elif anomaly.kind == "silent":
            sent = all_by_device[anomaly.device_id]
            after = [t for t in sent if t > anomaly.event_time_ms]
            if after:  # silent for at least 30 rounds: no reading, no heartbeat
                assert after[0] - anomaly.event_time_ms >= 30 * round_ms


@pytest.mark.parametrize("rate", [100_000.0, 37.0])
def test_game_records_are_byte_for_byte_what_orjson_makes_of_its_events(rate: float) -> None:
    # The game generator builds its JSON with f-strings on the fast path; it must equal the dict path exactly.
    config = GeneratorConfig(kind=StreamKind.GAME, seed=5, start_time_ms=START_MS + 987, events_per_second=rate)
    fast, slow = make_generator(config), make_generator(config)
    assert isinstance(fast, GameGenerator)
    for n in (1, 700, 20_000):
        records = fast.next_records(n)
        events = slow.next_chunk(n)
        assert records == [(e["player_id"], orjson.dumps(e)) for e in events]
    assert {e["event_type"] for e in events} == {"match_start", "score", "level_up", "match_end"}
