"""IoT telemetry: a fleet of devices reporting temperature, humidity, pressure and battery, with injected anomalies.

Each device reports in turn, once per round (``devices / events_per_second`` seconds of event time). A reading is
the device's site climate (with a daily cycle) plus a slow random-walk drift plus Gaussian noise; battery drains
and is recharged when low. Every ``HEARTBEAT_EVERY``-th report is a heartbeat without readings. Anomalies that
alerting should catch are injected at ``anomaly_rate`` per reading:

* ``spike``: one temperature reading 15 to 40 °C off;
* ``stuck``: the sensor repeats its last readings exactly for 20 to 60 reports;
* ``silent``: the device sends nothing at all, heartbeats included, for 30 to 120 rounds.

The injected anomalies are kept (the most recent ones) in :attr:`IotGenerator.anomalies` as ground truth.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections import deque
from dataclasses import dataclass, field
from math import floor
from typing import NamedTuple

import orjson

from producers.generators.base import Event, Record

DEFAULT_DEVICES = 1_000
HEARTBEAT_EVERY = 10
DEFAULT_ANOMALY_RATE = 0.001
TEMPERATURE_NOISE_C = 0.15
HUMIDITY_NOISE = 0.8
PRESSURE_NOISE_HPA = 0.3
DRIFT_STEP_C = 0.01
DAY_MS = 86_400_000
SITES = {
    # site: (mean temperature °C, daily amplitude °C, mean humidity %, mean pressure hPa)
    "warehouse-berlin": (18.0, 3.0, 45.0, 1012.0),
    "factory-lyon": (24.0, 4.0, 38.0, 1015.0),
    "greenhouse-almeria": (29.0, 7.0, 70.0, 1016.0),
    "datacenter-dublin": (21.0, 0.5, 35.0, 1009.0),
    "coldstore-oslo": (3.0, 1.0, 80.0, 1006.0),
}
FIRMWARES = ("1.4.2", "1.5.0", "2.0.1")
FIRMWARE_WEIGHTS = (0.2, 0.5, 0.3)
_TWO_PI = 2.0 * math.pi
#: Cached texts of rounded values per kind of reading (bounded, in case a drift wanders far).
_MAX_TEXTS = 100_000
#: The milliseconds of an event time and its closing quote, for each millisecond.
_MILLIS = [f'.{ms:03d}Z"' for ms in range(1000)]


def rounded_text(x: float, scale: float, digits: int, texts: dict[int, str]) -> str:
    """``repr(round(x, digits))`` (``scale`` is ``10 ** digits``), the way JSON writes the rounded reading.

    ``round`` and ``repr`` cost about 0.6 µs a value. Unless ``x * scale`` lies within 10^-4 of a half, the nearest
    integer ``m`` to it is the one the exact decimal rounding picks (the product's own rounding error is below
    10^-9 at these magnitudes), and ``round(x, digits)`` is then the double nearest to ``m / scale``: its text
    depends on ``m`` alone and is cached. Near a half, and at zero (``-0.0`` and ``0.0`` share ``m``), it is
    computed as it is written above.
    """
    y = x * scale
    m = floor(y)
    fraction = y - m
    if fraction > 0.5001:
        m += 1
    elif fraction >= 0.4999:
        return repr(round(x, digits))
    text = texts.get(m)
    if text is None:
        if m == 0:
            return repr(round(x, digits))
        if len(texts) > _MAX_TEXTS:
            texts.clear()
        text = texts[m] = repr(round(x, digits))
    return text


class Anomaly(NamedTuple):
    device_id: str
    kind: str
    event_time_ms: int


@dataclass(slots=True)
class _Device:
    device_id: str
    site: str
    firmware: str
    drift: float
    battery: float
    reports: int = 0
    stuck_left: int = 0
    silent_left: int = 0
    #: The texts of the last temperature, humidity and pressure (a stuck sensor repeats them).
    last: tuple[str, str, str] = ("0.0", "0.0", "0.0")
    #: The site's climate (:data:`SITES`) and the device's constant JSON fields, looked up once.
    climate: tuple[float, float, float, float] = field(init=False)
    json_part: str = field(init=False)

    def __post_init__(self) -> None:
        self.climate = SITES[self.site]
        self.json_part = f',"device_id":"{self.device_id}","site":"{self.site}","firmware":"{self.firmware}"'


class IotGenerator:
    """Events keyed by ``device_id``: ``reading`` and ``heartbeat``."""

    key_field = "device_id"

    def __init__(
        self,
        seed: int,
        start_time_ms: int,
        events_per_second: float,
        devices: int | None = None,
        anomaly_rate: float = DEFAULT_ANOMALY_RATE,
    ) -> None:
        rng = random.Random(seed)  # noqa: S311 - seeded simulation, not security
        self._rng = rng
        sites = list(SITES)
        self.devices = [
            _Device(
                device_id=f"device-{i:05d}",
                site=sites[i % len(sites)],
                firmware=rng.choices(FIRMWARES, FIRMWARE_WEIGHTS)[0],
                drift=rng.gauss(0.0, 0.5),
                battery=rng.uniform(20.0, 100.0),
                reports=rng.randrange(HEARTBEAT_EVERY),
            )
            for i in range(devices or DEFAULT_DEVICES)
        ]
        self.anomaly_rate = anomaly_rate
        self.anomalies: deque[Anomaly] = deque(maxlen=100_000)
        # Event ids as base.EventIds makes them (the same draw): ``<16 hex digits>-<sequence>``.
        self._id_head = f'{{"event_id":"{rng.getrandbits(64):016x}-'
        self._ids = itertools.count()
        self._second = -1
        self._second_text = ""
        self._tenths: dict[int, str] = {}
        self._hundredths: dict[int, str] = {}
        self._start_ms = start_time_ms
        self._step_ms = 1000.0 / events_per_second
        self._slot = 0

    def next_chunk(self, n: int) -> list[Event]:
        """The next ``n`` events as dicts, parsed back from :meth:`next_records` (one loop, one random stream)."""
        loads = orjson.loads
        events: list[Event] = [loads(value) for _key, value in self.next_records(n)]
        return events

    def next_records(self, n: int) -> list[Record]:
        """The next ``n`` events as ``(device_id, JSON bytes)`` records, built without a dict or a JSON encoder.

        The bytes equal ``orjson.dumps`` of the event (a unit test holds them equal): the strings are ASCII ids and
        names that need no escaping, and every number is a float rounded to one or two decimals and far below
        10^16, which ``repr`` writes as orjson does (neither uses an exponent there). ``rng.gauss`` is inlined:
        a reading draws four normals, which is exactly two of its Box-Muller pairs whatever spare it holds, so the
        draws, and the spare left in ``rng.gauss_next``, are the ones four ``gauss`` calls make.
        """
        rng = self._rng
        rng_random = rng.random
        log, sqrt, sin, cos = math.log, math.sqrt, math.sin, math.cos
        # random.Random keeps gauss's spare normal in ``gauss_next`` (typeshed does not declare it).
        spare: float | None = rng.gauss_next  # type: ignore[attr-defined]
        devices = self.devices
        count = len(devices)
        start, step, slot = self._start_ms, self._step_ms, self._slot
        id_head, ids = self._id_head, self._ids
        second, second_text = self._second, self._second_text
        gmtime, strftime = time.gmtime, time.strftime
        anomaly_rate = self.anomaly_rate
        text, tenths, hundredths = rounded_text, self._tenths, self._hundredths
        out: list[Record] = []
        append = out.append
        while len(out) < n:
            d = devices[slot % count]
            at_ms = start + int(slot * step)
            slot += 1
            if d.silent_left > 0:  # one round passes per turn of this device
                d.silent_left -= 1
                continue
            if at_ms // 1000 != second:
                second = at_ms // 1000
                second_text = strftime("%Y-%m-%dT%H:%M:%S", gmtime(second))
            d.reports += 1
            if d.reports % HEARTBEAT_EVERY == 0:
                append(
                    (
                        d.device_id,
                        f'{id_head}{next(ids)}","event_type":"heartbeat","event_time":"{second_text}'
                        f'{_MILLIS[at_ms % 1000]}{d.json_part},"battery":{text(d.battery, 10.0, 1, tenths)}}}'.encode(),
                    )
                )
                continue
            d.battery -= 0.002
            if d.battery < 5.0:
                d.battery = 100.0
            if d.stuck_left > 0:
                d.stuck_left -= 1
                temperature, humidity, pressure = d.last
            else:
                mean_t, amplitude, mean_h, mean_p = d.climate
                # Two Box-Muller pairs, as random.gauss draws them: the angle's uniform first, then the radius's.
                x2pi = rng_random() * _TWO_PI
                g2rad = sqrt(-2.0 * log(1.0 - rng_random()))
                a, b = cos(x2pi) * g2rad, sin(x2pi) * g2rad
                x2pi = rng_random() * _TWO_PI
                g2rad = sqrt(-2.0 * log(1.0 - rng_random()))
                c, e = cos(x2pi) * g2rad, sin(x2pi) * g2rad
                if spare is None:
                    z_drift, z_t, z_h, z_p = a, b, c, e
                else:
                    z_drift, z_t, z_h, z_p, spare = spare, a, b, c, e
                d.drift += 0.0 + z_drift * DRIFT_STEP_C
                daily = sin(_TWO_PI * (at_ms % DAY_MS) / DAY_MS)
                raw_t = mean_t + amplitude * daily + d.drift + (0.0 + z_t * TEMPERATURE_NOISE_C)
                temperature = text(raw_t, 100.0, 2, hundredths)
                humidity = text(
                    min(100.0, max(0.0, mean_h - 2.0 * daily + (0.0 + z_h * HUMIDITY_NOISE))), 10.0, 1, tenths
                )
                pressure = text(mean_p + (0.0 + z_p * PRESSURE_NOISE_HPA), 10.0, 1, tenths)
                d.last = (temperature, humidity, pressure)
                if rng_random() < anomaly_rate:
                    temperature = repr(self._inject(d, at_ms, round(raw_t, 2)))
            append(
                (
                    d.device_id,
                    f'{id_head}{next(ids)}","event_type":"reading","event_time":"{second_text}'
                    f'{_MILLIS[at_ms % 1000]}{d.json_part},"temperature":{temperature},"humidity":{humidity}'
                    f',"pressure":{pressure},"battery":{text(d.battery, 10.0, 1, tenths)}}}'.encode(),
                )
            )
        rng.gauss_next = spare  # type: ignore[attr-defined]
        self._slot = slot
        self._second, self._second_text = second, second_text
        return out

    def _inject(self, d: _Device, at_ms: int, temperature: float) -> float:
        rng = self._rng
        kind = rng.choices(("spike", "stuck", "silent"), (0.5, 0.3, 0.2))[0]
        self.anomalies.append(Anomaly(d.device_id, kind, at_ms))
        if kind == "spike":
            return round(temperature + rng.choice((-1.0, 1.0)) * rng.uniform(15.0, 40.0), 2)
        if kind == "stuck":
            d.stuck_left = rng.randint(20, 60)
        else:
            d.silent_left = rng.randint(30, 120)
        return temperature
