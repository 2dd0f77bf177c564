"""Every generator builds its JSON records itself (no dict, no encoder); the bytes must stay what they were.

The digests below were taken from the generators as they were when each still built a dict per event and serialized
it with orjson (clickstream and IoT until their records paths): the same seed, start time, rate and realism give
those bytes, record for record, whatever the generator's inner loop looks like now.
"""

import hashlib
import math
import random

import orjson
import pytest

from producers import GeneratorConfig, RealismConfig, RecordSource, StreamKind, make_generator
from producers.generators.base import RecordGenerator
from producers.generators.clickstream import float_json
from producers.generators.iot import rounded_text

pytestmark = pytest.mark.unit

START_MS = 1_795_000_000_123
CHUNKS = (1, 700, 4096, 20_000)

#: (kind, seed, events/s, out-of-order ratio, malformed ratio) -> sha256 of the records (see ``digest``).
GOLDEN = {
    ("game", 0, 37.0, 0.0, 0.0): "0acbbb4be49bdde9af2e2cb1c1680d8f62408e6246423ea4ca02e02bfbbf50ea",
    ("game", 7, 100000.0, 0.3, 0.3): "b6149d5f4fa656cb9bf9bc8a4500dd67bf482b8114f1ba52ffc4cc1a8334cab1",
    ("clickstream", 0, 37.0, 0.0, 0.0): "652032aa1893e470ef8795f40b654bbb2c68b461d5a083c4ae6f4791da9a9c48",
    ("clickstream", 0, 100000.0, 0.0, 0.0): "db57d99541c6f95156aba97b33012da09edcba2802855978792aad705a876288",
    ("clickstream", 7, 37.0, 0.3, 0.3): "574eee276c8c1915f9e356c34b8ad0b8307ffafd6d2d2c4fa3e0a300d04a470b",
    ("clickstream", 7, 100000.0, 0.3, 0.3): "ea1a9e5c05a5801fada1a3b86e2c20c39f30a01162d25ca2dfaea7ea1de1b098",
    ("iot", 0, 37.0, 0.0, 0.0): "b1a0f7f6b80cf13d38f0c8af9e3825624782c2dd833e1385145b1cadc4c1ff46",
    ("iot", 0, 100000.0, 0.0, 0.0): "6e9699600db5f5e4bc153b7583ba16e3a9d080882f85af125c5e917e4f7df0c8",
    ("iot", 7, 37.0, 0.3, 0.3): "7a030ed5b1467b303de18839bb591c522ab3198b1a082992203688c16a028f24",
    ("iot", 7, 100000.0, 0.3, 0.3): "81d2cccfea5f7cb8e143f2fe64230d1d635f4320d74b8ba6b4001b9fb8145b01",
}


def digest(kind: str, seed: int, rate: float, out_of_order: float, malformed: float, records_path: bool) -> str:
    config = GeneratorConfig(kind=StreamKind(kind), seed=seed, start_time_ms=START_MS, events_per_second=rate)
    realism = RealismConfig(out_of_order_ratio=out_of_order, malformed_ratio=malformed, oversized_bytes=2048)
    source = RecordSource(make_generator(config), realism, seed, records_path=records_path)
    h = hashlib.sha256()
    for n in CHUNKS:
        for key, value in source.next_records(n):
            h.update(key.encode() + b"\0" + value + b"\n")
    for key, value in source.drain():
        h.update(key.encode() + b"\0" + value + b"\n")
    return h.hexdigest()


@pytest.mark.parametrize(("case", "expected"), GOLDEN.items(), ids=["/".join(map(str, c)) for c in GOLDEN])
def test_records_are_the_bytes_the_dict_generators_made(
    case: tuple[str, int, float, float, float], expected: str
) -> None:
    assert digest(*case, records_path=True) == expected
    assert digest(*case, records_path=False) == expected


@pytest.mark.parametrize("kind", list(StreamKind))
def test_every_generator_serializes_its_own_records(kind: StreamKind) -> None:
    generator = make_generator(GeneratorConfig(kind=kind, seed=1, start_time_ms=START_MS))
    assert isinstance(generator, RecordGenerator)
    source = RecordSource(generator, RealismConfig(), 1)
    assert source._direct is not None  # no realism: the records go out as the generator made them


@pytest.mark.parametrize("kind", [StreamKind.CLICKSTREAM, StreamKind.IOT])
@pytest.mark.parametrize("rate", [3.0, 2_500.0, 200_000.0])
def test_records_are_canonical_orjson_and_keyed_by_their_partition_key(kind: StreamKind, rate: float) -> None:
    generator = make_generator(GeneratorConfig(kind=kind, seed=11, start_time_ms=START_MS, events_per_second=rate))
    for key, value in generator.next_records(60_000):
        event = orjson.loads(value)
        assert orjson.dumps(event) == value
        assert event[generator.key_field] == key


def test_rounded_text_is_repr_of_round_everywhere_including_halves_zeros_and_signs() -> None:
    rng = random.Random(4)
    values = [rng.uniform(-2_000.0, 2_000.0) for _ in range(200_000)]
    values += [rng.gauss(0.0, 0.01) for _ in range(20_000)]  # around zero: 0.0 and -0.0 both come out
    halves = [m / 200 for m in range(-4_001, 4_001, 2)] + [m / 20 for m in range(-4_001, 4_001, 2)]
    values += halves + [math.nextafter(h, math.inf) for h in halves] + [math.nextafter(h, -math.inf) for h in halves]
    values += [0.0, -0.0, 1e-9, -1e-9, 0.005, -0.005, 0.05, -0.05, 1e12, -1e12]
    for digits, scale in ((1, 10.0), (2, 100.0)):
        texts: dict[int, str] = {}
        for x in values:
            assert rounded_text(x, scale, digits, texts) == repr(round(x, digits)), (x, digits)
    assert rounded_text(-0.001, 100.0, 2, {}) == "-0.0"


def test_float_json_is_orjsons_text() -> None:
    rng = random.Random(5)
    values = [round(rng.lognormvariate(3.3, 2.0), 2) for _ in range(50_000)]
    values += [0.0, -0.0, 1e16, 1.5e17, 1e-5, 0.0001, 123456789.01, 5e-324, 1.7976931348623157e308]
    for value in values:
        assert float_json(value) == orjson.dumps(value).decode(), value
