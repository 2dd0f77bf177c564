"""The analytics output contract has one definition, its JSON Schemas (analytics/contract/): the writer
(analytics.emissions) produces only records the schemas accept, and the reader (the API's ResultRecord and
AlertRecord) has exactly the schemas' members and required members, accepts what they accept and refuses what they
refuse."""

from __future__ import annotations

from typing import Any

import jsonschema
import orjson
import pytest
from pydantic import BaseModel, ValidationError

from analytics.contract import ALERTS, RESULTS, schema
from analytics.emissions import WindowResult, alert_records, result_record
from emulator.api.models import AlertRecord, ResultRecord
from tests.support.results import T0, alert, result

READERS: list[tuple[str, type[BaseModel]]] = [(RESULTS, ResultRecord), (ALERTS, AlertRecord)]
ROWS: list[list[dict[str, Any]]] = [
    [],
    [{"rank": 1, "key": "p1", "score": 10}],
    [{"key": None, "severity": None, "message": None, "c": 2**70}],
    [{"key": 7, "severity": "critical", "message": "hot", "t": 1.5}],
]


@pytest.mark.parametrize(("name", "reader"), READERS)
def test_the_reader_has_the_schemas_members_and_required_members(name: str, reader: type[BaseModel]) -> None:
    contract = schema(name)
    assert set(reader.model_fields) == set(contract["properties"])
    assert {field for field, info in reader.model_fields.items() if info.is_required()} == set(contract["required"])


@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("session", [False, True])
@pytest.mark.parametrize("window", [(0, 60_000), (1_795_000_000_000, 1_795_000_060_000), (-(10**15), 10**15)])
def test_the_writer_writes_what_the_schemas_accept_and_the_reader_reads_it(
    rows: list[dict[str, Any]], session: bool, window: tuple[int, int]
) -> None:
    found = WindowResult("board_1", window[0], window[1], False, window[0], rows, session=session)
    _, value = result_record(found, emitted_at_ms=window[1])
    document = orjson.loads(value)
    jsonschema.validate(document, schema(RESULTS))
    ResultRecord.model_validate(document)
    for _, alert_value in alert_records(found, emitted_at_ms=window[1]):
        written = orjson.loads(alert_value)
        jsonschema.validate(written, schema(ALERTS))
        AlertRecord.model_validate(written)


@pytest.mark.parametrize(("name", "reader"), READERS)
@pytest.mark.parametrize("member", ["query", "window_start", "emitted_at"])
def test_both_refuse_a_record_without_a_required_member(name: str, reader: type[BaseModel], member: str) -> None:
    document = result("board_1", T0, {"a": 1.0}) if name == RESULTS else alert("q", "k", T0)
    del document[member]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema(name))
    with pytest.raises(ValidationError):
        reader.model_validate(document)


def test_both_refuse_a_board_name_outside_the_name_rule() -> None:
    document = result("board_1", T0, {"a": 1.0}) | {"query": "board/1"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema(RESULTS))
    with pytest.raises(ValidationError):
        ResultRecord.model_validate(document)
