"""Every kind of poison record among valid events, through every built-in query: each is routed with its reason,
once; every valid event counts exactly as if the poison had never been there; nothing raises.

This holds the engine's rule for bad records (docs/analytics.md, "Bad records"): a record is bad when it is not
UTF-8, is not one JSON object, has a field the query reads of the wrong type, NaN or Infinity in a number column it
reads, or lacks an event time its windows can represent. A change to decoding must keep every case here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from analytics import compile_query, load_queries, make_operator, outcome_records
from analytics.config import OutputTopics
from analytics.decode import Decoder
from analytics.isolation import process_batch
from analytics.plan import CompiledQuery
from tests.support.poison import oddities, poisons
from tests.unit.analytics.support import BASE_MS, COPY_QUERY, builtins_and, iso

TOPICS = OutputTopics()
PARTITIONS = 2


def game(i: int) -> dict[str, Any]:
    return {"event_id": f"g{i}", "event_type": "score", "event_time": iso(BASE_MS + i * 700),
            "player_id": ["p\x00q", "p😀", "\u0627"][i % 3] if i % 50 == 1 else f"p{i % 13}", "match_id": "m1",
            "level": 3, "points": i % 50}  # fmt: skip


def click(i: int) -> dict[str, Any]:
    return {"event_id": f"c{i}", "event_type": ["page_view", "purchase", "error"][i % 3],
            "event_time": iso(BASE_MS + i * 700), "user_id": f"u{i % 13}", "session_id": f"s{i % 5}",
            "url": f"https://shop.example/p/{i % 4}", "device": "mobile", "country": "FR", "price": 9.5,
            "status_code": 200}  # fmt: skip


def iot(i: int) -> dict[str, Any]:
    return {"event_id": f"d{i}", "event_type": "reading", "event_time": iso(BASE_MS + i * 700),
            "device_id": "quiet" if i == 5 else f"dev{i % 7}", "temperature": 40.0 + i % 20, "humidity": 0.5,
            "site": "s1"}  # fmt: skip


#: Per source: its valid events and the fields the poison is made in (text, integer, event time, double), when the
#: query reads them (see :func:`poisoned_fields`).
STREAMS = {
    "game-events": (game, ("player_id", "points", "event_time", None)),
    "clickstream": (click, ("user_id", "status_code", "event_time", "price")),
    "iot-telemetry": (iot, ("device_id", None, "event_time", "temperature")),
}
KINDS = ("VARCHAR", "BIGINT", "TIMESTAMP", "DOUBLE")


def poisoned_fields(query: CompiledQuery) -> tuple[str, str | None, str, str | None]:
    """The fields of :data:`STREAMS` the poison is made in, each replaced by another field of its type that the query
    reads when the query does not read it (None when it reads none): only a field a query reads is checked by type
    for it (a field it does not read is held to what ``test_unread_fields`` holds)."""
    preferred = STREAMS[query.source.name][1]
    types = dict(query.source.columns)
    chosen = [
        name if name in query.decodes else next((c for c in query.decodes if types[c] == kind), None)
        for name, kind in zip(preferred, KINDS, strict=True)
    ]
    text, integer, time, double = chosen
    assert text is not None
    assert time is not None
    return text, integer, time, double


@pytest.fixture(scope="module")
def catalog() -> dict[str, CompiledQuery]:
    return builtins_and("copy", COPY_QUERY)


def drive(query: CompiledQuery, values: list[bytes | None], batch: int = 30) -> tuple[list[Any], list[Any]]:
    """Run ``query`` as the live engine does, record ``i`` at (partition i % 2, offset i // 2), ``batch`` records
    per micro-batch; its final outputs (each as produced) and its error records."""
    operator = make_operator(query, throttle=False)
    decoder = Decoder.for_query(query)
    outputs: list[Any] = []
    errors: list[Any] = []

    def collect(records: list[tuple[str, bytes | None, bytes]]) -> None:
        for topic, key, value in records:
            document = orjson.loads(value)
            if topic == TOPICS.errors:
                errors.append(document)
            elif document.get("final") is not False:  # changes depend on where batches end; finals do not
                document.pop("emitted_at", None)
                document.pop("watermark", None)
                outputs.append((topic, key.decode() if key else None, document))

    for start in range(0, len(values), batch):
        indices = range(start, min(start + batch, len(values)))
        parts = [
            (p, [i // PARTITIONS for i in indices if i % PARTITIONS == p], [values[i] for i in indices if i % 2 == p])
            for p in range(PARTITIONS)
        ]
        outcome = process_batch(decoder, operator, query.name, parts, 0)
        collect(outcome_records(query, outcome, TOPICS, 0))
    collect(outcome_records(query, operator.finish(), TOPICS, 0))
    return outputs, errors


QUERIES = ["copy", "leaderboard_1m", "leaderboard_rolling_10m", "iot_hot_devices", "iot_silent_devices",
           "clickstream_error_spike", "clickstream_clean", "page_metrics_1m"]  # fmt: skip


@pytest.mark.parametrize("name", QUERIES)
def test_every_poison_kind_is_routed_once_and_every_valid_event_counts(
    catalog: dict[str, CompiledQuery], name: str
) -> None:
    query = catalog[name]
    make = STREAMS[query.source.name][0]
    text, integer, time, double = poisoned_fields(query)
    valid = [orjson.dumps(make(i)) for i in range(400)]
    kinds = poisons(make(10_000), text, integer, time, double)
    mixed: list[bytes | None] = []
    where: dict[tuple[int, int], str] = {}
    for i, value in enumerate(valid):
        if i % 9 == 4 and len(where) < len(kinds):
            kind = kinds[len(where)]
            position = len(mixed)
            where[(position % PARTITIONS, position // PARTITIONS)] = kind.reason
            mixed.append(kind.value)
        mixed.append(value)
    assert len(where) == len(kinds)

    expected, none = drive(query, list(valid))
    assert none == []
    assert expected
    outputs, errors = drive(query, mixed)

    assert sorted(map(orjson.dumps, outputs)) == sorted(map(orjson.dumps, expected))
    routed = {(e["partition"], e["offset"]): e["reason"] for e in errors}
    assert len(routed) == len(errors), "a record was routed twice"
    assert set(routed) == set(where)
    for position, fragment in where.items():
        assert fragment in routed[position], (position, fragment, routed[position])


@pytest.mark.parametrize("batch", [1, 7, 30])
def test_odd_but_valid_records_are_delivered_and_verdicts_do_not_depend_on_the_batch(
    catalog: dict[str, CompiledQuery], batch: int
) -> None:
    """A record's verdict is its own: the same records cut into batches of 1, 7 or 30 give the same routing."""
    query = catalog["copy"]
    events = [game(i) for i in range(60)]
    odd = [value for _, value in oddities(events[20])]
    values: list[bytes | None] = [orjson.dumps(e) for e in events[:20]] + odd + [orjson.dumps(e) for e in events[21:]]
    kinds = poisons(game(999), "player_id", "points", "event_time")
    bad_positions = {(i % PARTITIONS, i // PARTITIONS) for i in range(len(values), len(values) + len(kinds))}
    values += [k.value for k in kinds]

    outputs, errors = drive(query, values, batch)

    copied = sorted(document["event_id"] for _, _, document in outputs)
    assert copied == sorted([e["event_id"] for e in events if e["event_id"] != "g20"] + ["g20"] * len(odd))
    assert {(e["partition"], e["offset"]) for e in errors} == bad_positions
    assert len(errors) == len(kinds)


def test_an_event_time_whose_window_would_end_after_9999_is_out_of_range(catalog: dict[str, CompiledQuery]) -> None:
    late_in_9999 = {**game(1), "event_time": "9999-12-31T23:59:30.000Z"}
    values: list[bytes | None] = [orjson.dumps(game(0)), orjson.dumps(late_in_9999), orjson.dumps(game(2))]
    _, errors = drive(catalog["leaderboard_1m"], values)
    assert [(e["partition"], e["offset"]) for e in errors] == [(1, 0)]
    assert "9999-12-31T23:58:59.999Z" in errors[0]["reason"]
    # Without a window the same time is fine: the copy keeps it.
    outputs, errors = drive(catalog["copy"], values)
    assert errors == []
    assert "9999-12-31T23:59:30.000Z" in [d["event_time"] for _, _, d in outputs]


def test_a_sum_beyond_64_bits_is_written_as_a_number(catalog: dict[str, CompiledQuery]) -> None:
    """Three valid events with the largest 64-bit points: their SUM (a HUGEINT) no longer fits the 64 bits orjson
    writes, which stopped the engine in the output encoding on every restart ("Integer exceeds 64-bit range")."""
    biggest = 2**63 - 1
    values: list[bytes | None] = [orjson.dumps({**game(i), "player_id": "p", "points": biggest}) for i in range(3)]
    outputs, errors = drive(catalog["leaderboard_1m"], values)
    assert errors == []
    [(_, _, final)] = outputs
    assert final["rows"][0]["score"] == float(3 * biggest)


def test_values_json_has_no_form_for_are_written_as_text() -> None:
    query = compile_query(
        Path("spans.sql"),
        "-- source: game-events\n-- output: topic\n-- output_topic: spans\n"
        "SELECT event_id, event_time - TIMESTAMP '2027-01-01' AS since, encode(player_id) AS raw FROM events\n",
        {s.name: s for s in (q.source for q in load_queries().values())},
    )
    outputs, errors = drive(query, [orjson.dumps(game(0))])
    assert errors == []
    [(_, _, row)] = outputs
    assert isinstance(row["since"], str)
    assert row["raw"] == "b'p0'"


def test_rows_an_etl_query_rejects_keep_distinct_keys_in_the_errors_topic(catalog: dict[str, CompiledQuery]) -> None:
    """The errors topic is read keeping the latest record per key; a rejected ETL row has no source offset, and
    every such row shared the key ``query|-1|-1``, so a reader kept only the last rejection."""
    query = catalog["clickstream_clean"]
    rejected = [{**click(1), "url": "not a url"}, {**click(2), "country": "France"}, {**click(3), "url": "nope"}]
    values: list[bytes | None] = [orjson.dumps(e) for e in [click(0), *rejected]]
    records = []
    for _ in range(2):  # processed twice, as after a crash before the checkpoint: the copies replace the originals
        operator, decoder = make_operator(query, throttle=False), Decoder.for_query(query)
        outcome = process_batch(decoder, operator, query.name, [(0, range(len(values)), values)], 0)
        records += [
            (key, value) for topic, key, value in outcome_records(query, outcome, TOPICS, 0) if topic == TOPICS.errors
        ]
    assert len(records) == 6
    latest = dict(records)
    assert len(latest) == 3
    assert sorted(orjson.loads(v)["reason"] for v in latest.values()) == [
        "malformed country",
        "malformed url",
        "malformed url",
    ]
