"""An operator reports the state it holds (rows and bytes, merged or pending): the figures a long run's memory is
read against (``kemu_component_stat{stat="state_bytes"}``, ``bench/hour_run.py``)."""

from __future__ import annotations

import pyarrow as pa

from analytics.decode import Decoder
from analytics.protocol import Operator, make_operator
from tests.unit.analytics.support import BASE_MS, Event, compile_text

TUMBLING = """-- source: game
SELECT window_start, window_end, player_id AS key, SUM(points) AS score
FROM TUMBLE(events, DESCRIPTOR(event_time), INTERVAL '1 minute')
GROUP BY window_start, window_end, player_id
"""
ETL = """-- source: game
-- output: topic
-- output_topic: game-copy
SELECT * FROM events
"""


def _batch(query_text: str, events: list[Event]) -> tuple[Operator, pa.Table]:
    query = compile_text(query_text)
    table, bad = Decoder(query.source, query.name).decode(0, range(len(events)), [e.encode() for e in events])
    assert not bad
    return make_operator(query), table


def test_a_window_operator_holds_one_row_per_open_window_and_key_and_none_once_they_close() -> None:
    events = [Event(f"e{i}", 0, BASE_MS + i * 1000, f"p{i % 3}", 1) for i in range(9)]
    operator, batch = _batch(TUMBLING, events)
    assert operator.state_size() == (0, 0)
    operator.process(batch, 0)
    operator.snapshot()  # merges what is pending
    rows, size = operator.state_size()
    assert rows == 3  # one window, three players
    assert size > 0
    operator.finish()
    assert operator.state_size()[0] == 0


def test_a_stateless_query_holds_nothing() -> None:
    operator, batch = _batch(ETL, [Event("e1", 0, BASE_MS, "p1", 1)])
    operator.process(batch, 0)
    assert operator.state_size() == (0, 0)
