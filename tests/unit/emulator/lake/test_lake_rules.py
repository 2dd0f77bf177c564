"""Pure rules of the lake: GetPartitions expressions, crawler widening and layouts, Athena statements, pruning,
result texts and the REST binding."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from emulator.athena.errors import QueryFailed
from emulator.athena.pruning import pruned, query_filter
from emulator.athena.rest import rest_operation
from emulator.athena.results import csv_line, java_double, result_page, rows_from_csv, text
from emulator.athena.statements import classify, table_references
from emulator.glue.crawl_rules import SchemaUnion, is_data_key, partition_layout, table_name_for, widen
from emulator.glue.errors import InvalidInputException
from emulator.glue.expressions import compile_expression
from emulator.glue.paging import decode_token, page

pytestmark = pytest.mark.unit

KEYS = {"dt": "string", "hour": "int"}


@pytest.mark.parametrize(
    ("expression", "values", "expected"),
    [
        ("dt = '2026-01-01'", {"dt": "2026-01-01", "hour": "3"}, True),
        ("hour > 9", {"dt": "x", "hour": "10"}, True),  # numeric, not '10' < '9'
        ("dt > '9'", {"dt": "10", "hour": "1"}, False),  # text
        ("hour BETWEEN 2 AND 4 AND dt <> 'a'", {"dt": "b", "hour": "4"}, True),
        ("hour IN (1, 2) OR dt LIKE 'x%'", {"dt": "xyz", "hour": "7"}, True),
        ("NOT (hour = 7)", {"dt": "xyz", "hour": "7"}, False),
        ("dt = 'it''s'", {"dt": "it's", "hour": "1"}, True),
        ("hour > 1", {"dt": "a", "hour": "not-a-number"}, False),
        ("dt IS NOT NULL", {"dt": "a", "hour": "1"}, True),
        ("", {"dt": "a", "hour": "1"}, True),
    ],
)
def test_expressions(expression: str, values: dict[str, str], expected: bool) -> None:
    assert compile_expression(expression, KEYS)(values) is expected


@pytest.mark.parametrize("bad", ["dt =", "nope = 1", "dt = 'x' AND", "dt ~ 'x'", "(dt = 'x'", "dt = x", "x" * 3000])
def test_bad_expressions_say_why(bad: str) -> None:
    with pytest.raises(InvalidInputException):
        compile_expression(bad, KEYS)


def test_paging_tokens_are_stable_and_checked() -> None:
    items = [f"t{i}" for i in range(5)]
    first, token = page(items, lambda x: x, None, 2)
    assert first == ["t0", "t1"]
    second, token = page([*items, "t00"], lambda x: x, token, 2)  # an item added before the cursor is not repeated
    assert second == ["t2", "t3"]
    with pytest.raises(InvalidInputException):
        decode_token("not a token!")


@pytest.mark.parametrize(
    ("a", "b", "wider"),
    [
        ("int", "bigint", "bigint"),
        ("tinyint", "smallint", "smallint"),
        ("int", "double", "double"),
        ("float", "double", "double"),
        ("decimal(10,2)", "decimal(12,4)", "decimal(12,4)"),
        ("decimal(10,2)", "bigint", "double"),
        ("date", "timestamp", "timestamp"),
        ("string", "bigint", "string"),
        ("struct<a:int>", "struct<b:int>", "string"),
    ],
)
def test_widening(a: str, b: str, wider: str) -> None:
    assert widen(a, b) == wider
    assert widen(b, a) == wider


def test_schema_union_reports_conflicts() -> None:
    union = SchemaUnion()
    union.add(pa.schema([("id", pa.int32()), ("name", pa.string())]), "a")
    union.add(pa.schema([("id", pa.int64()), ("name", pa.int64()), ("dt", pa.string())]), "b", skip=frozenset({"dt"}))
    assert union.columns == {"id": "bigint", "name": "string"}
    assert len(union.conflicts) == 1


def test_layouts() -> None:
    firehose = partition_layout(["2026/01/02/03/a.parquet", "2026/01/02/04/b.parquet", "stray.parquet"])
    assert firehose.keys == ["partition_0", "partition_1", "partition_2", "partition_3"]
    assert firehose.values["2026/01/02/04/b.parquet"] == ("2026", "01", "02", "04")
    assert "stray.parquet" in firehose.left_out
    hive = partition_layout(["dt=2026-01-01/hour=00/x.parquet", "dt=2026-01-02/hour=13/y.parquet"])
    assert hive.keys == ["dt", "hour"]
    assert hive.values["dt=2026-01-02/hour=13/y.parquet"] == ("2026-01-02", "13")
    mixed = partition_layout(["dt=1/a.parquet", "2026/b.parquet"])
    assert mixed.keys == ["partition_0"]
    assert is_data_key("a/b.parquet")
    assert not is_data_key("_kemu/schema.parquet")
    assert not is_data_key("a/b.jsonl")
    assert table_name_for("firehose/game-events/") == "game_events"


def test_statements() -> None:
    assert classify("SHOW TABLES IN lake", []).database == "lake"
    assert classify("describe lake.events", []).table == "events"
    ctas = classify(
        "CREATE TABLE \"db\".\"t\"\nWITH(\n external_location = 's3://b/x/t',\n format = 'PARQUET'\n) AS SELECT 1",
        [],
    )
    assert (ctas.kind, ctas.database, ctas.table) == ("ctas", "db", "t")
    assert ctas.properties == {"external_location": "s3://b/x/t", "format": "PARQUET"}
    assert ctas.sql == "SELECT 1"
    with pytest.raises(QueryFailed, match="COPY"):
        classify("COPY t TO 'x'", ["COPY"])
    with pytest.raises(QueryFailed, match="One statement"):
        classify("SELECT 1; SELECT 2", ["SELECT", "SELECT"])


def _serialized(sql: str) -> str:
    serialized: str = duckdb.connect().execute("SELECT json_serialize_sql(?)", [sql]).fetchall()[0][0]
    return serialized


def test_table_references_and_pruning() -> None:
    sql = "WITH x AS (SELECT 1) SELECT * FROM lake.a JOIN b ON true WHERE k IN (SELECT k FROM c)"
    assert set(table_references(_serialized(sql))) == {("lake", "a"), (None, "b"), (None, "c")}
    keys = [("dt", "string"), ("hour", "int")]
    partitions = [((d, str(h)), f"s3://b/{d}/{h}/") for d in ("2026-01-01", "2026-01-02") for h in (1, 10)]
    where = query_filter(_serialized("SELECT * FROM t e WHERE e.dt = '2026-01-02' AND hour >= 5 AND x > 1"))
    assert where is not None
    assert pruned(keys, partitions, list(where.conditions)) == [(("2026-01-02", "10"), "s3://b/2026-01-02/10/")]
    # Not pruned when unsure: OR, a join, a string literal against a numeric key.
    for unsure in (
        "SELECT * FROM t WHERE dt = 'x' OR hour = 1",
        "SELECT * FROM t JOIN u ON true WHERE dt = 'x'",
        "SELECT * FROM t WHERE hour = '1'",
    ):
        found = query_filter(_serialized(unsure))
        assert found is None or pruned(keys, partitions, list(found.conditions)) == partitions, unsure


def test_texts_and_csv() -> None:
    assert [java_double(v) for v in (1.0, 1e-5, 1.5e20, 12345678.0, float("nan"), float("-inf"))] == [
        "1.0", "1.0E-5", "1.5E20", "1.2345678E7", "NaN", "-Infinity",
    ]  # fmt: skip
    assert text(True) == "true"
    assert text([1, None]) == "[1, null]"
    assert text({"a": 1}) == "{a=1}"
    assert text(b"\x01\xff") == "01 ff"
    assert csv_line(['a"b', None, ""]) == '"a""b",,""\n'
    names, rows = rows_from_csv(b'"x","y"\n"1",\n"",""\n')
    assert (names, rows) == (["x", "y"], [["1", None], ["", ""]])
    from emulator.athena.results import ColumnInfo

    first, after = result_page([ColumnInfo("x", "varchar")], [["1"], ["2"], ["3"]], 0, 2, True)
    assert len(first["Rows"]) == 2
    assert after == 1


def test_rest_binding() -> None:
    assert rest_operation("POST", "/query-executions", "") == ("StartQueryExecution", {})
    assert rest_operation("GET", "/query-executions/abc/results", "MaxResults=5&NextToken=7") == (
        "GetQueryResults",
        {"QueryExecutionId": "abc", "MaxResults": 5, "NextToken": "7"},
    )
    assert rest_operation("GET", "/", "") is None
    assert rest_operation("DELETE", "/query-executions/abc", "") is None
