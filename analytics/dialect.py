"""Flink SQL's spelling of the window table functions, read as kemu's DuckDB spelling.

Flink writes a window table-valued function as ``FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(t), INTERVAL ...))``;
DuckDB's grammar has no ``TABLE(...)`` wrapper nor a ``TABLE`` argument, so kemu's own spelling is
``FROM TUMBLE(events, DESCRIPTOR(t), INTERVAL ...)``. :func:`to_duckdb` turns the first into the second before
DuckDB parses the query. It blanks the Flink-only words with spaces instead of deleting them, so every other
character keeps its offset and DuckDB's error positions still point at the right line of the user's file.
"""

from __future__ import annotations

import re

_WINDOW_CALL = re.compile(r"(?i)\bTABLE\s*\(\s*(TUMBLE|HOP|CUMULATE|SESSION)\s*\(\s*(TABLE)\s+")
_PARTITION_BY = re.compile(r"(?i)\bPARTITION\s+BY\b")


class DialectError(ValueError):
    """A Flink spelling kemu does not accept; ``position`` is the 0-based offset it starts at."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


def _code_mask(sql: str) -> list[bool]:
    """Per character: True when it is SQL code, False inside a string, a quoted identifier or a comment."""
    mask = [True] * len(sql)
    i = 0
    while i < len(sql):
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            end = len(sql) if end < 0 else end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = len(sql) if end < 0 else end + 2
        elif sql[i] in "'\"":
            quote, end = sql[i], i + 1
            while end < len(sql):
                if sql[end] == quote:
                    if sql.startswith(quote * 2, end):  # a doubled quote stays inside
                        end += 2
                        continue
                    end += 1
                    break
                end += 1
        else:
            i += 1
            continue
        for j in range(i, end):
            mask[j] = False
        i = end
    return mask


def _closing(sql: str, mask: list[bool], opening: int) -> int | None:
    """The offset of the parenthesis that closes the one at ``opening`` (code only), None when it is unclosed."""
    depth = 0
    for i in range(opening, len(sql)):
        if not mask[i]:
            continue
        if sql[i] == "(":
            depth += 1
        elif sql[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return None


def to_duckdb(sql: str) -> str:
    """``sql`` with each ``TABLE(FN(TABLE x, ...))`` of a window function written ``FN(x, ...)``, same length."""
    mask = _code_mask(sql)
    text = list(sql)
    for match in _WINDOW_CALL.finditer(sql):
        if not mask[match.start()]:
            continue
        opening = sql.index("(", match.start())
        closing = _closing(sql, mask, opening)
        if closing is None:
            continue  # DuckDB reports the unbalanced parenthesis itself
        function = match.group(1).upper()
        inner = sql.index("(", match.start(1))
        inner_closing = _closing(sql, mask, inner)
        arguments = sql[inner : inner_closing if inner_closing is not None else closing]
        partition = _PARTITION_BY.search(arguments)
        if function == "SESSION" and partition is not None and mask[inner + partition.start()]:
            raise DialectError(
                "SESSION(TABLE events PARTITION BY ...) is not accepted: kemu forms sessions per value of the "
                "query's GROUP BY keys; drop the PARTITION BY and group by those columns",
                inner + partition.start(),
            )
        for i in range(match.start(), opening + 1):  # "TABLE(" (and the spaces in it)
            text[i] = " "
        text[closing] = " "
        for i in range(match.start(2), match.end(2)):  # the argument's "TABLE"
            text[i] = " "
    return "".join(text)
