"""Partition pruning from a query's WHERE clause (pure): which partitions of a table a query can skip.

DuckDB would prune Hive partitions itself, but only after reading every file's footer to bind the union of their
schemas; pruning here means a skipped partition's objects are never listed or opened. It is deliberately
conservative: only a single ``SELECT`` from one catalog table (no join, no set operation), only conditions ANDed at
the top of its WHERE, and only comparisons of a partition key with constants (``=``, ``<>``, ``<``, ``<=``, ``>``,
``>=``, ``IN``, ``BETWEEN``) of the key's kind (text with a string key, numbers with a numeric key). Anything else
keeps every partition, and DuckDB still applies the whole WHERE to what is read, so a result never depends on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

NUMERIC = ("tinyint", "smallint", "int", "integer", "bigint", "long", "decimal", "double", "float", "real")
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>"}
_OPS = {
    "COMPARE_EQUAL": "=",
    "COMPARE_NOTEQUAL": "<>",
    "COMPARE_LESSTHAN": "<",
    "COMPARE_LESSTHANOREQUALTO": "<=",
    "COMPARE_GREATERTHAN": ">",
    "COMPARE_GREATERTHANOREQUALTO": ">=",
}


@dataclass(frozen=True)
class Condition:
    """``key op values`` (``IN`` has several values, ``BETWEEN`` is two conditions); ``text`` tells the literals'
    kind (True: strings)."""

    key: str
    op: str
    values: tuple[str, ...]
    text: bool
    #: The table name or alias the column was qualified with, if any.
    qualifier: str | None = None


@dataclass(frozen=True)
class Filter:
    """The conditions of a query on its one table (named as written: schema or None, table, alias or None)."""

    schema: str | None
    table: str
    alias: str | None
    conditions: tuple[Condition, ...]


def query_filter(serialized: str) -> Filter | None:
    """The conditions a single-table SELECT puts on columns, from DuckDB's ``json_serialize_sql``; None when the
    query is not one this module prunes."""
    tree = orjson.loads(serialized)
    statements = tree.get("statements") or []
    if tree.get("error") or len(statements) != 1:
        return None
    node = statements[0].get("node") or {}
    source = node.get("from_table") or {}
    if node.get("type") != "SELECT_NODE" or source.get("type") != "BASE_TABLE":
        return None
    if (node.get("cte_map") or {}).get("map"):
        return None
    conditions: list[Condition] = []
    _conjuncts(node.get("where_clause"), conditions)
    schema = source.get("schema_name") or None
    table = str(source.get("table_name", "")).lower()
    alias = str(source.get("alias") or "").lower() or None
    mine = [c for c in conditions if c.qualifier in (None, table, alias)]
    return Filter(schema.lower() if schema else None, table, alias, tuple(mine))


def _conjuncts(expression: Any, out: list[Condition]) -> None:
    if not isinstance(expression, dict):
        return
    kind = expression.get("type")
    if kind == "CONJUNCTION_AND":
        for child in expression.get("children", []):
            _conjuncts(child, out)
    elif kind in _OPS:
        left, right = expression.get("left"), expression.get("right")
        op = _OPS[kind]
        if _constant(left) is not None and _column(right) is not None:
            left, right, op = right, left, _FLIP[op]
        column, constant = _column(left), _constant(right)
        if column is not None and constant is not None:
            out.append(Condition(column[1], op, (constant[0],), constant[1], column[0]))
    elif kind == "COMPARE_IN":
        children = expression.get("children", [])
        column = _column(children[0]) if children else None
        constants = [_constant(c) for c in children[1:]]
        if column is not None and constants and all(c is not None for c in constants):
            kinds = {c[1] for c in constants if c is not None}
            if len(kinds) == 1:
                values = tuple(c[0] for c in constants if c is not None)
                out.append(Condition(column[1], "IN", values, kinds.pop(), column[0]))
    elif kind == "COMPARE_BETWEEN":
        column, low, high = _column(expression.get("input")), expression.get("lower"), expression.get("upper")
        low_c, high_c = _constant(low), _constant(high)
        if column is not None and low_c is not None and high_c is not None and low_c[1] == high_c[1]:
            out.append(Condition(column[1], ">=", (low_c[0],), low_c[1], column[0]))
            out.append(Condition(column[1], "<=", (high_c[0],), high_c[1], column[0]))


def _column(expression: Any) -> tuple[str | None, str] | None:
    if not isinstance(expression, dict) or expression.get("class") != "COLUMN_REF":
        return None
    names = expression.get("column_names") or []
    if len(names) == 1:
        return None, str(names[0]).lower()
    if len(names) == 2:
        return str(names[0]).lower(), str(names[1]).lower()
    return None


def _constant(expression: Any) -> tuple[str, bool] | None:
    if not isinstance(expression, dict) or expression.get("class") != "CONSTANT":
        return None
    literal = expression.get("literal") or {}
    kind, text = literal.get("kind"), literal.get("text")
    if not isinstance(text, str):
        return None
    if kind in ("STRING", "VARCHAR"):
        return text, True
    if kind in ("INTEGER", "BIGINT", "DECIMAL", "DOUBLE", "HUGEINT", "SMALLINT", "TINYINT", "FLOAT"):
        return text, False
    return None


def keeps(condition: Condition, key_type: str, value: str | None) -> bool:
    """Whether a partition whose key has ``value`` may hold rows meeting ``condition`` (True when unsure)."""
    numeric = key_type.split("(")[0].strip().lower() in NUMERIC
    if condition.text == numeric:  # a string literal on a numeric key, or a number on a string key: not pruned
        return True
    if value is None:
        return False
    if numeric:
        try:
            left: Any = Decimal(value)
            rights: list[Any] = [Decimal(v) for v in condition.values]
        except InvalidOperation:
            return True
    else:
        left, rights = value, list(condition.values)
    op = condition.op
    if op == "IN":
        return any(left == r for r in rights)
    right = rights[0]
    outcome: bool = {
        "=": left == right,
        "<>": left != right,
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[op]
    return outcome


def pruned(
    keys: list[tuple[str, str]],
    partitions: list[tuple[tuple[str, ...], str | None]],
    conditions: list[Condition],
) -> list[tuple[tuple[str, ...], str | None]]:
    """The partitions that may hold rows meeting every condition on a partition key of ``keys``."""
    index = {name: (i, kind) for i, (name, kind) in enumerate(keys)}
    relevant = [c for c in conditions if c.key in index]
    if not relevant:
        return partitions
    return [
        (values, where)
        for values, where in partitions
        if all(keeps(c, index[c.key][1], values[index[c.key][0]]) for c in relevant)
    ]
