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

import math
import random
from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

from producers.generators.base import Event, EventIds, IsoMillis

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


class Anomaly(NamedTuple):
    device_id: str
    kind: str
    event_time_ms: int


@dataclass
class _Device:
    device_id: str
    site: str
    firmware: str
    drift: float
    battery: float
    reports: int = 0
    stuck_left: int = 0
    silent_left: int = 0
    last: tuple[float, float, float] = (0.0, 0.0, 0.0)


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
        self._ids = EventIds(rng)
        self._iso = IsoMillis()
        self._start_ms = start_time_ms
        self._step_ms = 1000.0 / events_per_second
        self._slot = 0

    def next_chunk(self, n: int) -> list[Event]:
        out: list[Event] = []
        devices = self.devices
        while len(out) < n:
            slot = self._slot
            self._slot += 1
            device = devices[slot % len(devices)]
            at_ms = self._start_ms + int(slot * self._step_ms)
            if device.silent_left > 0:  # one round passes per turn of this device
                device.silent_left -= 1
                continue
            out.append(self._report(device, at_ms))
        return out

    def _report(self, d: _Device, at_ms: int) -> Event:
        rng = self._rng
        d.reports += 1
        event: Event = {
            "event_id": self._ids(),
            "event_type": "heartbeat",
            "event_time": self._iso(at_ms),
            "device_id": d.device_id,
            "site": d.site,
            "firmware": d.firmware,
        }
        if d.reports % HEARTBEAT_EVERY == 0:
            event["battery"] = round(d.battery, 1)
            return event
        event["event_type"] = "reading"
        d.battery -= 0.002
        if d.battery < 5.0:
            d.battery = 100.0
        if d.stuck_left > 0:
            d.stuck_left -= 1
            temperature, humidity, pressure = d.last
        else:
            mean_t, amplitude, mean_h, mean_p = SITES[d.site]
            d.drift += rng.gauss(0.0, DRIFT_STEP_C)
            daily = math.sin(2.0 * math.pi * (at_ms % DAY_MS) / DAY_MS)
            temperature = round(mean_t + amplitude * daily + d.drift + rng.gauss(0.0, TEMPERATURE_NOISE_C), 2)
            humidity = round(min(100.0, max(0.0, mean_h - 2.0 * daily + rng.gauss(0.0, HUMIDITY_NOISE))), 1)
            pressure = round(mean_p + rng.gauss(0.0, PRESSURE_NOISE_HPA), 1)
            d.last = (temperature, humidity, pressure)
            if rng.random() < self.anomaly_rate:
                temperature = self._inject(d, at_ms, temperature)
        event["temperature"] = temperature
        event["humidity"] = humidity
        event["pressure"] = pressure
        event["battery"] = round(d.battery, 1)
        return event

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
