"""DuckDB's own parser as a library: parse SQL to its JSON syntax tree, rewrite subtrees, render back to SQL.

Using ``json_serialize_sql`` / ``json_deserialize_sql`` means the query dialect is exactly DuckDB's, with no
SQL grammar of our own to keep in step with it.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

import duckdb

Node = dict[str, Any]

_NO_LOCATION = 18446744073709551615
#: ``count(*)`` crashes DuckDB 2.0's serializer; ``count( )`` means the same, has the same length (so error
#: positions still point into the user's file) and serializes as ``count_star()``.
_COUNT_STAR = re.compile(r"(?i)\bcount\s*\(\s*\*\s*\)")


class SqlSyntaxError(Exception):
    """The text does not parse; ``position`` is the 0-based character offset DuckDB reported, when it did."""

    def __init__(self, message: str, position: int | None) -> None:
        super().__init__(message)
        self.position = position


def _blank_count_star(sql: str) -> str:
    return _COUNT_STAR.sub(lambda m: "count(" + " " * (len(m.group(0)) - 7) + ")", sql)


def parse_statements(con: duckdb.DuckDBPyConnection, sql: str) -> list[Node]:
    """The statement nodes of ``sql``; raises :class:`SqlSyntaxError` with DuckDB's message and position."""
    rows = con.execute("SELECT json_serialize_sql(?)", [_blank_count_star(sql)]).fetchall()
    document = json.loads(rows[0][0])
    if document.get("error"):
        position = document.get("position")
        raise SqlSyntaxError(str(document.get("error_message", "syntax error")), int(position) if position else None)
    return [statement["node"] for statement in document["statements"]]


def render_statement(con: duckdb.DuckDBPyConnection, node: Node) -> str:
    document = json.dumps({"error": False, "statements": [{"node": node}]})
    return str(con.execute("SELECT json_deserialize_sql(?)", [document]).fetchall()[0][0])


def canonical(node: Any) -> str:
    """A string equal for two subtrees that mean the same expression (ignores aliases and source positions)."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: strip(v) for k, v in value.items() if k not in ("alias", "query_location", "query_location_length")
            }
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return json.dumps(strip(node), sort_keys=True)


def transform(node: Any, visit: Callable[[Node], Node | None]) -> Any:
    """A copy of ``node`` where every dict that ``visit`` maps to a replacement is replaced (no descent into it)."""
    if isinstance(node, dict):
        replaced = visit(node)
        if replaced is not None:
            return replaced
        return {k: transform(v, visit) for k, v in node.items()}
    if isinstance(node, list):
        return [transform(v, visit) for v in node]
    return node


def find_all(node: Any, predicate: Callable[[Node], bool]) -> list[Node]:
    """Every dict in the tree that matches, outermost first; matches are not searched further."""
    found: list[Node] = []

    def visit(candidate: Node) -> Node | None:
        if predicate(candidate):
            found.append(candidate)
            return candidate
        return None

    transform(node, visit)
    return found


def column_ref(name: str, alias: str = "") -> Node:
    return {
        "class": "COLUMN_REF",
        "type": "COLUMN_REF",
        "alias": alias,
        "query_location": _NO_LOCATION,
        "query_location_length": 0,
        "column_names": [name],
    }


def function_call(name: str, arguments: list[Node], alias: str = "", template: Node | None = None) -> Node:
    """A plain function call node; ``template`` (another call) lends its filter and distinct flag."""
    node: Node = {
        "class": "FUNCTION",
        "type": "FUNCTION",
        "alias": alias,
        "query_location": _NO_LOCATION,
        "query_location_length": 0,
        "function_name": name,
        "schema": "",
        "filter": copy.deepcopy(template["filter"]) if template else None,
        "order_bys": {"type": "ORDER_MODIFIER", "orders": []},
        "distinct": bool(template["distinct"]) if template else False,
        "is_operator": False,
        "export_state": False,
        "catalog": "",
        "arguments": [{"name": "", "expression": argument} for argument in arguments],
        "qualified_name": {"path": [name]},
        "is_legacy_function_call": False,
    }
    return node


def call_arguments(node: Node) -> list[Node]:
    """The argument expressions of a function call node."""
    if "arguments" in node:
        return [argument["expression"] for argument in node["arguments"]]
    return list(node.get("children", []))


def base_table(name: str) -> Node:
    return {
        "type": "BASE_TABLE",
        "alias": "",
        "sample": None,
        "query_location": _NO_LOCATION,
        "query_location_length": 0,
        "schema_name": "",
        "table_name": name,
        "column_name_alias": [],
        "catalog_name": "",
    }


def with_alias(node: Node, alias: str) -> Node:
    copied = dict(node)
    copied["alias"] = alias
    return copied


def is_column(node: Node, name: str | None = None) -> bool:
    if node.get("class") != "COLUMN_REF":
        return False
    return name is None or str(node["column_names"][-1]).lower() == name
