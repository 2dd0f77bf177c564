"""What a query string is, before anything runs (pure but for DuckDB's parser): one statement, of a kind Athena
runs here, and which catalog tables it names.

Accepted: ``SELECT`` (with ``WITH``, ``VALUES``), ``EXPLAIN``, ``SHOW DATABASES|SCHEMAS``, ``SHOW TABLES [IN db]``,
``DESCRIBE table``, and Athena's ``CREATE TABLE name WITH (...) AS SELECT ...`` (CTAS, the statement awswrangler's
default path issues). Anything else (INSERT, COPY, ATTACH, PRAGMA, SET, other DDL) is refused with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from emulator.athena.errors import QueryFailed

MAX_QUERY_CHARS = 262_144  # Athena's limit on QueryString

_SHOW_DATABASES = re.compile(r"\s*show\s+(databases|schemas)\s*(?:like\s+'(?P<like>[^']*)')?\s*;?\s*", re.I)
_SHOW_TABLES = re.compile(
    r"\s*show\s+tables(?:\s+(?:in|from)\s+`?\"?(?P<db>[\w-]+)`?\"?)?\s*(?:'(?P<like>[^']*)')?\s*;?\s*", re.I
)
_DESCRIBE = re.compile(r"\s*(?:describe|desc)\s+(?P<name>[`\"\w.-]+)\s*;?\s*", re.I)
_CTAS = re.compile(
    r"\s*create\s+table\s+(?P<name>[`\"\w.-]+)\s+with\s*\((?P<props>.*?)\)\s*as\s+(?P<query>.+?)\s*"
    r"(?P<nodata>with\s+no\s+data)?\s*;?\s*",
    re.I | re.S,
)
_PROPERTY = re.compile(
    r"\s*(?P<key>\w+)\s*=\s*(?:'(?P<str>(?:[^']|'')*)'|(?P<bare>[\w.]+)|ARRAY\s*\[(?P<arr>[^\]]*)\])\s*", re.I
)


@dataclass(frozen=True)
class Statement:
    """A classified query: ``kind`` is select, explain, show_databases, show_tables, describe or ctas."""

    kind: str
    sql: str
    #: show_tables: the database; describe / ctas: the (database or None, table) named.
    database: str | None = None
    table: str | None = None
    like: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    with_data: bool = True


def split_name(raw: str) -> tuple[str | None, str]:
    """``db.table``, ``"db"."table"`` or ``table`` → (database or None, table), lower-cased."""
    parts = [p.strip('`"').lower() for p in raw.split(".")]
    if len(parts) == 1:
        return None, parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    if len(parts) == 3:  # catalog.db.table (AwsDataCatalog.db.table)
        return parts[1], parts[2]
    raise QueryFailed(f"{raw!r} is not a table name")


def _properties(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    position = 0
    for chunk in _split_top(text):
        match = _PROPERTY.fullmatch(chunk)
        if match is None:
            raise QueryFailed(f"CREATE TABLE AS: cannot read the table property {chunk.strip()[:80]!r}")
        key = match["key"].lower()
        if match["arr"] is not None:
            out[key] = [v.strip().strip("'") for v in match["arr"].split(",") if v.strip()]
        else:
            out[key] = match["str"].replace("''", "'") if match["str"] is not None else match["bare"]
        position += len(chunk)
    return out


def _split_top(text: str) -> list[str]:
    """``text`` split at commas outside quotes and brackets."""
    parts: list[str] = []
    current: list[str] = []
    depth, quoted = 0, False
    for ch in text:
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "[":
            depth += 1
        elif not quoted and ch == "]":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current))
    return parts


def classify(sql: str, statement_types: list[str]) -> Statement:
    """Classify ``sql``; ``statement_types`` are DuckDB's statement types of it (as names, e.g. ``SELECT``).

    Raises :class:`QueryFailed` with the reason for anything that is not one accepted statement."""
    if len(sql) > MAX_QUERY_CHARS:
        raise QueryFailed(f"The query is longer than {MAX_QUERY_CHARS} characters.")
    if (match := _SHOW_DATABASES.fullmatch(sql)) is not None:
        return Statement("show_databases", sql, like=match["like"])
    if (match := _SHOW_TABLES.fullmatch(sql)) is not None:
        return Statement("show_tables", sql, database=(match["db"] or "").lower() or None, like=match["like"])
    if (match := _DESCRIBE.fullmatch(sql)) is not None:
        database, table = split_name(match["name"])
        return Statement("describe", sql, database=database, table=table)
    if (match := _CTAS.fullmatch(sql)) is not None:
        database, table = split_name(match["name"])
        return Statement(
            "ctas", match["query"], database=database, table=table, properties=_properties(match["props"]),
            with_data=match["nodata"] is None,
        )  # fmt: skip
    if len(statement_types) != 1:
        raise QueryFailed(f"One statement per query, as in Athena; this query has {len(statement_types)}.")
    kind = statement_types[0]
    if kind == "SELECT":
        return Statement("select", sql)
    if kind == "EXPLAIN":
        return Statement("explain", sql)
    raise QueryFailed(
        f"{kind} statements are not run here: queries are read-only (SELECT, WITH, VALUES, EXPLAIN, SHOW, "
        "DESCRIBE, and CREATE TABLE ... WITH (...) AS SELECT into the lake)."
    )


def table_references(serialized: str) -> list[tuple[str | None, str]]:
    """The (schema or None, table) of every base table a statement names, from DuckDB's ``json_serialize_sql``."""
    tree = orjson.loads(serialized)
    if tree.get("error"):
        raise QueryFailed(f"SYNTAX_ERROR: {tree.get('error_message', 'the query does not parse')}")
    found: list[tuple[str | None, str]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE" and isinstance(node.get("table_name"), str):
                schema = node.get("schema_name") or None
                pair = (schema.lower() if schema else None, node["table_name"].lower())
                if pair not in found:
                    found.append(pair)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree)
    return found
