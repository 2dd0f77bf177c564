"""Properties of SESSION windows on awkward input: late merges, sub-millisecond times, NULL keys, float sums.

One model in plain Python, event by event, says what the engine must give; and a replay is byte-identical run after
run, and gives the same final rows whatever the batch size when nothing is late.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics import replay
from analytics.emissions import iso_ms
from analytics.plan import CompiledQuery
from tests.unit.analytics.support import BASE_MS, compile_text, in_order_source

SHOP = in_order_source(
    "shop", (("event_id", "VARCHAR"), ("event_time", "TIMESTAMP"), ("user_id", "VARCHAR"), ("price", "DOUBLE"))
)
GAP_MS = 1_000
QUERY = f"""-- source: shop
-- emit: final
SELECT window_start, window_end, user_id AS key, COUNT(*) AS n, SUM(price) AS total, MIN(price) AS low,
       MAX(price) AS high, AVG(price) AS mean
FROM SESSION(events, DESCRIPTOR(event_time), INTERVAL '{GAP_MS} milliseconds')
GROUP BY window_start, window_end, user_id
"""


@dataclass(frozen=True)
class Sale:
    event_id: str
    t_us: int
    user: str | None
    price: float

    @property
    def t_ms(self) -> int:
        return self.t_us // 1000  # the engine's rule: floored to the millisecond

    def encode(self) -> bytes:
        stamp = iso_ms(self.t_ms)[:-1] + f"{self.t_us % 1000:03d}Z"  # microseconds: ...08:00:00.123456Z
        document: dict[str, Any] = {"event_id": self.event_id, "event_time": stamp, "price": self.price}
        if self.user is not None:
            document["user_id"] = self.user
        return orjson.dumps(document)


prices = st.one_of(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.1, 0.2, 0.3, 354.48, 1e-9, 123456.789]),
)


@st.composite
def sales(draw: st.DrawFn, ordered: bool) -> list[Sale]:
    count = draw(st.integers(1, 40))
    clock = BASE_MS * 1000
    out = []
    for i in range(count):
        clock += draw(st.integers(0, 700_000))  # up to 0.7 s apart, in microseconds
        late_by = 0 if ordered else draw(st.sampled_from([0, 0, 0, 300_000, 1_500_000, 4_000_000]))
        out.append(Sale(f"s{i}", clock - late_by, draw(st.sampled_from(["a", "b", None])), draw(prices)))
    return out


def model(events: list[Sale]) -> tuple[dict[tuple[int, int, str | None], list[Sale]], set[str]]:
    """Sessions as the engine must form them from one event per batch (no out-of-orderness, no lateness): an
    event merges with the open sessions of its key that its window [t, t + gap) overlaps, first; it is late when
    it overlaps none and its own window has closed. A session closes when the watermark (the largest time so far)
    reaches its end, and is never extended after."""
    open_sessions: list[tuple[str | None, list[Sale]]] = []
    closed: list[tuple[str | None, list[Sale]]] = []
    late: set[str] = set()
    watermark: int | None = None

    def span(session: list[Sale]) -> tuple[int, int]:
        return min(e.t_ms for e in session), max(e.t_ms for e in session) + GAP_MS

    for event in events:
        t = event.t_ms
        touching = [s for s in open_sessions if s[0] == event.user and span(s[1])[0] < t + GAP_MS and t < span(s[1])[1]]
        if not touching and watermark is not None and t + GAP_MS <= watermark:
            late.add(event.event_id)
            continue
        open_sessions = [s for s in open_sessions if all(s is not x for x in touching)]
        open_sessions.append((event.user, [event, *(e for s in touching for e in s[1])]))
        watermark = t if watermark is None else max(watermark, t)
        closed += [s for s in open_sessions if span(s[1])[1] <= watermark]
        open_sessions = [s for s in open_sessions if span(s[1])[1] > watermark]
    found = {(*span(events), user): events for user, events in closed + open_sessions}
    return found, late


@functools.cache
def compiled() -> CompiledQuery:
    return compile_text(QUERY, SHOP)


def run_replay(events: list[Sale], directory: Path, batch_size: int, name: str) -> bytes:
    source = directory / "sales.jsonl"
    source.write_bytes(b"".join(e.encode() + b"\n" for e in events))
    out = directory / f"{name}.jsonl"
    replay(compiled(), source, out, batch_size)
    return out.read_bytes()


def final_rows(output: bytes) -> dict[tuple[str, str, Any], dict[str, Any]]:
    rows = {}
    for line in output.splitlines():
        record = orjson.loads(line)
        value = record["value"]
        if record["topic"] == "analytics-results" and value["final"]:
            for row in value["rows"]:
                rows[(value["window_start"], value["window_end"], row["key"])] = row
    return rows


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(sales(ordered=False))
def test_sessions_follow_the_model_event_by_event(tmp_path: Path, events: list[Sale]) -> None:
    output = run_replay(events, tmp_path, 1, "one-by-one")
    expected, late = model(events)
    got_late = {
        orjson.loads(line)["value"]["event"]["event_id"] for line in output.splitlines() if b"late-events" in line
    }
    assert got_late == late
    got = final_rows(output)
    assert set(got) == {(iso_ms(ws), iso_ms(we), user) for ws, we, user in expected}
    for (ws, we, user), session in expected.items():
        row = got[(iso_ms(ws), iso_ms(we), user)]
        values = [e.price for e in session]
        assert row["n"] == len(values)
        assert row["low"] == min(values)
        assert row["high"] == max(values)
        # Exact summation: the total of the values (each rounded to 10 decimals) rounded once to a double.
        assert math.isclose(row["total"], math.fsum(values), rel_tol=1e-12, abs_tol=1e-9)
        assert math.isclose(row["mean"], math.fsum(values) / len(values), rel_tol=1e-12, abs_tol=1e-9)
    assert run_replay(events, tmp_path, 1, "again") == output  # and byte for byte the same when replayed again


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(sales(ordered=True), st.integers(2, 25))
def test_replays_are_byte_identical_and_final_rows_do_not_depend_on_the_batch_size(
    tmp_path: Path, events: list[Sale], batch_size: int
) -> None:
    first = run_replay(events, tmp_path, batch_size, "first")
    assert run_replay(events, tmp_path, batch_size, "second") == first
    # In time order nothing is late, whatever the batches: the final rows (floats included) are equal.
    assert final_rows(run_replay(events, tmp_path, 1, "single")) == final_rows(first)
