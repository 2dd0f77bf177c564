"""Issue 14, item 9: bytes 0xff in ``player_id`` / ``user_id`` made the engine exit on every restart.

A record whose string field is not valid UTF-8 went through Arrow's JSON reader (which does not check UTF-8) into
DuckDB: the pass-through query and ``clickstream_clean`` died with ``UnicodeDecodeError``, ``leaderboard_1m`` with
``OverflowError: date value out of range``. Each such record must reach the errors with its reason while every
valid event is processed as if the record had never been there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from analytics import replay_outcomes
from analytics.plan import CompiledQuery
from tests.unit.analytics.support import BASE_MS, COPY_QUERY, builtins_and, iso


@pytest.fixture(scope="module")
def catalog() -> dict[str, CompiledQuery]:
    return builtins_and("pass_through", COPY_QUERY)


def game_event(i: int) -> dict[str, Any]:
    return {"event_id": f"g{i}", "event_type": "score", "event_time": iso(BASE_MS + i * 250),
            "player_id": f"p{i % 13}", "match_id": "m1", "level": 3, "points": i % 50}  # fmt: skip


def click_event(i: int) -> dict[str, Any]:
    return {"event_id": f"c{i}", "event_type": "page_view", "event_time": iso(BASE_MS + i * 250),
            "user_id": f"u{i % 13}", "session_id": f"s{i % 5}", "url": "https://shop.example/p/1",
            "device": "mobile", "country": "FR"}  # fmt: skip


def run(query: CompiledQuery, lines: list[bytes], tmp_path: Path) -> tuple[list[tuple[str, Any, Any]], list[Any]]:
    """Everything the query produces over ``lines`` (one record each), split into outputs and errors."""
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / f"{query.name}.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    outputs, errors = [], []
    for _, produced in replay_outcomes(query, path, batch_size=40):
        for topic, key, value in produced:
            document = orjson.loads(value)
            if topic == "analytics-errors":
                errors.append(document)
            elif document.get("final") is not False:
                # Changes depend on where batches end, which one more record shifts; final results do not. Nor do
                # the source offsets they were read up to, which the extra record moves by one line.
                document.pop("emitted_at", None)
                document.pop("watermark", None)
                document.pop("source_offsets", None)
                outputs.append((topic, key, document))
    return outputs, errors


@pytest.mark.parametrize(
    ("name", "make", "field"),
    [
        ("pass_through", game_event, "player_id"),
        ("leaderboard_1m", game_event, "player_id"),
        ("clickstream_clean", click_event, "user_id"),
    ],
)
def test_invalid_utf8_in_a_string_field_is_routed_and_the_rest_flows(
    catalog: dict[str, CompiledQuery], tmp_path: Path, name: str, make: Any, field: str
) -> None:
    valid = [orjson.dumps(make(i)) for i in range(200)]
    poison = orjson.dumps(make(77)).replace(f'"{make(77)[field]}"'.encode(), b'"\xff\xfe"')
    assert poison != valid[77]
    mixed = [*valid[:100], poison, *valid[100:]]

    expected, none = run(catalog[name], valid, tmp_path / "clean")
    assert none == []
    assert expected
    outputs, errors = run(catalog[name], mixed, tmp_path / "mixed")

    assert outputs == expected
    assert len(errors) == 1, errors
    assert errors[0]["offset"] == 101  # the replay's offsets are line numbers
    assert "UTF-8" in errors[0]["reason"], errors[0]["reason"]
