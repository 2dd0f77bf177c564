"""Property: the incremental engine's final results equal a plain batch DuckDB query over the same events."""

from __future__ import annotations

import math
from typing import Any

import duckdb
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.emissions import BatchOutcome
from tests.unit.analytics.support import BASE_MS, Event, compile_text, run

AGGREGATES = "SUM(points) AS score, COUNT(*) AS n, MIN(points) AS low, MAX(points) AS high, AVG(points) AS mean"


@st.composite
def windows(draw: st.DrawFn) -> tuple[str, int, int]:
    kind = draw(st.sampled_from(["tumble", "hop", "cumulate", "session"]))
    slide = draw(st.integers(1, 8)) * 500
    size = slide * draw(st.integers(1, 5)) if kind not in ("tumble", "session") else slide
    if kind == "hop" and draw(st.booleans()):
        size += draw(st.integers(0, slide - 1)) // 100 * 100  # sizes that are not a multiple of the slide
        size = max(size, slide)
    return kind, size, slide


def tvf(kind: str, size: int, slide: int) -> str:
    if kind in ("tumble", "session"):
        return f"{kind.upper()}(events, DESCRIPTOR(event_time), INTERVAL '{size} milliseconds')"
    name = kind.upper()
    return f"{name}(events, DESCRIPTOR(event_time), INTERVAL '{slide} milliseconds', INTERVAL '{size} milliseconds')"


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    kind, size, slide = draw(windows())
    ooo = draw(st.sampled_from([0, 300, 1000]))
    lateness = draw(st.sampled_from([0, 500, 2000]))
    partitions = draw(st.integers(1, 3))
    count = draw(st.integers(1, 120))
    disorder = ooo + lateness  # events may arrive this much out of order and still count
    events = []
    clocks = dict.fromkeys(range(partitions), BASE_MS + draw(st.integers(0, 5000)))
    for i in range(count):
        partition = draw(st.integers(0, partitions - 1))
        clocks[partition] += draw(st.integers(0, 700))
        t = clocks[partition] - draw(st.integers(0, disorder))
        player = draw(st.sampled_from(["a", "b", "c", "d"]))
        kind_of = draw(st.sampled_from(["score", "score", "score", "level_up"]))
        events.append(Event(f"e{i}", partition, t, player, draw(st.integers(0, 50)), kind_of))
    cuts = sorted(draw(st.lists(st.integers(0, count), max_size=8)))
    arrivals = [events[a:b] for a, b in zip([0, *cuts], [*cuts, count], strict=True)]
    return {"window": (kind, size, slide), "ooo": ooo, "lateness": lateness, "events": events, "arrivals": arrivals}


Windows = dict[tuple[int, int], list[Any]]


def oracle(
    events: list[Event], kind: str, size: int, slide: int, top: int | None = None
) -> dict[tuple[int, int], list]:
    """The windows by definition (every aligned window on a grid that covers the data), in one batch query."""
    con = duckdb.connect()
    con.register(
        "ev",
        pa.table(
            {
                "t": [e.t for e in events],
                "player": [e.player for e in events],
                "points": [e.points for e in events],
                "kind": [e.event_type for e in events],
            }
        ),
    )
    if kind == "session":
        return session_oracle(con, size, top)
    low, high = min(e.t for e in events) - 2 * size, max(e.t for e in events) + 2 * size
    step = size if kind == "tumble" else slide
    if kind == "cumulate":
        grid = (
            f"SELECT s AS ws, s + k * {slide} AS we FROM range({low - low % size}, {high}, {size}) r(s), "
            f"range(1, {size // slide + 1}) q(k)"
        )
    else:
        grid = f"SELECT s AS ws, s + {size} AS we FROM range({low - low % step}, {high}, {step}) r(s)"
    sql = f"""
        SELECT ws, we, player, SUM(points) AS score, COUNT(*) AS n, MIN(points) AS low, MAX(points) AS high,
               AVG(points) AS mean
        FROM ev JOIN ({grid}) w ON ev.t >= w.ws AND ev.t < w.we
        WHERE kind = 'score'
        GROUP BY ws, we, player
        {f"QUALIFY ROW_NUMBER() OVER (PARTITION BY ws, we ORDER BY SUM(points) DESC, player) <= {top}" if top else ""}
        ORDER BY ws, we, player
    """
    expected: dict[tuple[int, int], list] = {}
    for ws, we, player, score, n, lo, hi, mean in con.sql(sql).fetchall():
        expected.setdefault((ws, we), []).append((player, int(score), n, lo, hi, mean))
    return expected


def session_oracle(con: duckdb.DuckDBPyConnection, gap: int, top: int | None) -> Windows:
    """Sessions by definition: per player, score events less than ``gap`` apart are one session."""
    qualify = f"QUALIFY ROW_NUMBER() OVER (PARTITION BY ws, we ORDER BY SUM(points) DESC, player) <= {top}"
    sql = f"""
        WITH marked AS (
            SELECT *, CASE WHEN t - lag(t) OVER (PARTITION BY player ORDER BY t) < {gap} THEN 0 ELSE 1 END AS new
            FROM ev WHERE kind = 'score'),
        numbered AS (SELECT *, sum(new) OVER (PARTITION BY player ORDER BY t ROWS UNBOUNDED PRECEDING) AS island
            FROM marked),
        sessions AS (SELECT *, min(t) OVER (PARTITION BY player, island) AS ws,
            max(t) OVER (PARTITION BY player, island) + {gap} AS we FROM numbered)
        SELECT ws, we, player, SUM(points), COUNT(*), MIN(points), MAX(points), AVG(points)
        FROM sessions GROUP BY ws, we, player {qualify if top else ""}
    """
    expected: Windows = {}
    for ws, we, player, score, n, lo, hi, mean in con.sql(sql).fetchall():
        expected.setdefault((ws, we), []).append((player, int(score), n, lo, hi, mean))
    return expected


def sessions_one_event_per_batch(events: list[Event], gap: int) -> tuple[Windows, set[str]]:
    """Sessions as they form from events arriving one per batch, with no out-of-orderness and no lateness, and the
    ids of the late events: a model in plain Python, event by event.

    An event merges with the open sessions its window ``[t, t + gap)`` overlaps first, as in Flink, and is late when
    the session it then belongs to has closed: that is, when it overlaps no open session and its own window ended
    at or before the watermark. It never merges with a closed session: one that arrives after a session closed may
    start a session overlapping it (Flink's merging window set forgets a window once it is purged). A batch query
    over the on-time events would join the two, so it is no oracle here."""
    open_sessions: list[list[Event]] = []
    closed: list[list[Event]] = []
    late: set[str] = set()
    watermark: int | None = None
    for event in events:
        touching = [
            s for s in open_sessions if min(e.t for e in s) < event.t + gap and event.t < max(e.t for e in s) + gap
        ]
        if not touching and watermark is not None and event.t + gap <= watermark:
            late.add(event.event_id)
            continue
        open_sessions = [s for s in open_sessions if all(s is not t for t in touching)]
        open_sessions.append([event, *(e for s in touching for e in s)])
        watermark = event.t if watermark is None else max(watermark, event.t)
        closed += [s for s in open_sessions if max(e.t for e in s) + gap <= watermark]
        open_sessions = [s for s in open_sessions if max(e.t for e in s) + gap > watermark]
    found: Windows = {}
    for session in closed + open_sessions:
        points = [e.points for e in session]
        window = (min(e.t for e in session), max(e.t for e in session) + gap)
        row = (session[0].player, sum(points), len(points), min(points), max(points), sum(points) / len(points))
        found.setdefault(window, []).append(row)
    return found, late


def finals(outcome: BatchOutcome) -> dict[tuple[int, int], list]:
    got: dict[tuple[int, int], list] = {}
    for result in outcome.results:
        if not result.final:
            continue
        window = (result.window_start_ms, result.window_end_ms)
        assert window not in got, f"window {window} emitted final twice"
        rows = sorted((r["key"], r["score"], r["n"], r["low"], r["high"], r["mean"]) for r in result.rows)
        if rows:
            got[window] = rows
    return got


def same(got: dict[tuple[int, int], list], expected: dict[tuple[int, int], list]) -> None:
    assert got.keys() == expected.keys()
    for window, rows in expected.items():
        for a, b in zip(got[window], sorted(rows), strict=True):
            assert a[:5] == b[:5], window
            assert math.isclose(a[5], b[5], rel_tol=1e-9), window


#: Two ways to order a Top-N: two terms, or one row-valued key (which DuckDB turns into a top-N aggregate).
ORDERS = ("SUM(points) DESC, player_id", "(-SUM(points), player_id)")


def query_text(
    window: tuple[int, int, int], ooo: int, lateness: int, emit: str, top: int | None = None, order_by: str = ORDERS[0]
) -> str:
    order = f"ORDER BY {order_by}"
    qualify = f"QUALIFY ROW_NUMBER() OVER (PARTITION BY window_start, window_end {order}) <= {top}"
    return f"""-- source: game
-- emit: {emit}
-- lateness: {lateness}ms
-- out_of_orderness: {ooo}ms
SELECT window_start, window_end, player_id AS key, {AGGREGATES}
FROM {tvf(*window)}
WHERE event_type = 'score'
GROUP BY window_start, window_end, player_id
{qualify if top else ""}
"""


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.sampled_from(["changes", "final"]))
def test_final_results_equal_a_batch_query(scenario: dict[str, Any], emit: str) -> None:
    query = compile_text(query_text(scenario["window"], scenario["ooo"], scenario["lateness"], emit))
    outcome = run(query, scenario["arrivals"])
    assert outcome.late == []  # every event was within the allowed lateness
    same(finals(outcome), oracle(scenario["events"], *scenario["window"]))
    if emit == "final":
        assert all(r.final for r in outcome.results)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.sampled_from(ORDERS))
def test_top_n_equals_a_batch_query(scenario: dict[str, Any], order_by: str) -> None:
    text = query_text(scenario["window"], scenario["ooo"], scenario["lateness"], "final", top=2, order_by=order_by)
    query = compile_text(text)
    outcome = run(query, scenario["arrivals"])
    same(finals(outcome), oracle(scenario["events"], *scenario["window"], top=2))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(windows(), st.lists(st.tuples(st.integers(0, 20_000), st.integers(0, 9)), min_size=1, max_size=80))
def test_events_beyond_lateness_are_routed_never_dropped(window: tuple[int, int, int], raw: list) -> None:
    """Wildly out-of-order events: each (event, window) pair is either in the final result or reported late."""
    events = [Event(f"e{i}", 0, BASE_MS + t, "p", points) for i, (t, points) in enumerate(raw)]
    arrivals = [[e] for e in events]  # one event per batch: the watermark moves between every pair of events
    outcome = run(compile_text(query_text(window, 0, 0, "final")), arrivals)
    missed = {(late.event["event_id"], w) for late in outcome.late for w in late.missed_windows}
    if window[0] == "session":
        want, late_ids = sessions_one_event_per_batch(events, window[1])
        assert {late.event["event_id"] for late in outcome.late} == late_ids
    else:
        # Per window, drop the events that were reported late for it.
        expected = oracle(events, *window)
        by_window: dict[tuple[int, int], list[Event]] = {}
        for e in events:
            for w in expected:
                if w[0] <= e.t < w[1] and (e.event_id, w) not in missed:
                    by_window.setdefault(w, []).append(e)
        want = {w: oracle(es, *window)[w] for w, es in by_window.items()}
    same(finals(outcome), want)
    for late in outcome.late:
        assert all(we <= late.watermark_ms for _, we in late.missed_windows)
