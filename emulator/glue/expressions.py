"""GetPartitions' ``Expression``: a filter over partition values, parsed once and evaluated per partition (pure).

The grammar is Glue's: comparisons ``= <> != < <= > >=``, ``BETWEEN a AND b``, ``IN (a, b)``, ``LIKE 'pat%'``,
``IS [NOT] NULL``, combined with ``AND``, ``OR``, ``NOT`` and parentheses. Literals are single-quoted strings
(``''`` escapes a quote) or numbers. A key of an integral or decimal type compares numerically, every other key as
text, as Glue does; a value that is not a number for a numeric key matches no numeric comparison.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from emulator.glue.errors import InvalidInputException

NUMERIC_TYPES = ("tinyint", "smallint", "int", "integer", "bigint", "long", "decimal", "double", "float")
MAX_EXPRESSION = 2048

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op><>|!=|<=|>=|=|<|>|\(|\)|,)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*|`[^`]+`))"
)
_KEYWORDS = {"AND", "OR", "NOT", "BETWEEN", "IN", "LIKE", "IS", "NULL"}

Values = Mapping[str, str | None]
Predicate = Callable[[Values], bool]


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _error(text, f"unexpected character at position {position}: {text[position : position + 10]!r}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "word" and value.upper() in _KEYWORDS:
            out.append(_Token("kw", value.upper()))
        else:
            out.append(_Token(kind, value))
        position = match.end()
    return out


def _error(text: str, why: str) -> InvalidInputException:
    return InvalidInputException(f"Unsupported expression {text[:200]!r}: {why}.")


class _Parser:
    def __init__(self, text: str, key_types: Mapping[str, str]) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.position = 0
        self.key_types = {k.lower(): v.lower() for k, v in key_types.items()}

    def peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise _error(self.text, "it ends too early")
        self.position += 1
        return token

    def expect(self, kind: str, text: str | None = None) -> _Token:
        token = self.take()
        if token.kind != kind or (text is not None and token.text != text):
            raise _error(self.text, f"expected {text or kind}, found {token.text!r}")
        return token

    def at(self, kind: str, text: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == kind and token.text == text

    def parse(self) -> Predicate:
        predicate = self.disjunction()
        if self.peek() is not None:
            raise _error(self.text, f"unexpected {self.take().text!r}")
        return predicate

    def disjunction(self) -> Predicate:
        return self.joined("OR", self.conjunction, any)

    def conjunction(self) -> Predicate:
        return self.joined("AND", self.negation, all)

    def joined(
        self, keyword: str, operand: Callable[[], Predicate], combine: Callable[[Iterable[bool]], bool]
    ) -> Predicate:
        """``operand (keyword operand)*``, its predicates combined by ``combine`` (``any`` for OR, ``all`` for AND)."""
        parts = [operand()]
        while self.at("kw", keyword):
            self.take()
            parts.append(operand())
        return parts[0] if len(parts) == 1 else (lambda v: combine(p(v) for p in parts))

    def negation(self) -> Predicate:
        if self.at("kw", "NOT"):
            self.take()
            inner = self.negation()
            return lambda v: not inner(v)
        if self.at("op", "("):
            self.take()
            inner = self.disjunction()
            self.expect("op", ")")
            return inner
        return self.comparison()

    def literal(self) -> str:
        token = self.take()
        if token.kind == "str":
            return token.text[1:-1].replace("''", "'")
        if token.kind == "num":
            return token.text
        raise _error(self.text, f"expected a quoted string or a number, found {token.text!r}")

    def comparison(self) -> Predicate:
        token = self.take()
        if token.kind != "word":
            raise _error(self.text, f"expected a partition key, found {token.text!r}")
        key = token.text.strip("`").lower()
        if key not in self.key_types:
            raise _error(self.text, f"{key!r} is not a partition key of the table ({', '.join(self.key_types)})")
        numeric = self.key_types[key].split("(")[0] in NUMERIC_TYPES
        negate = False
        if self.at("kw", "IS"):
            self.take()
            if self.at("kw", "NOT"):
                self.take()
                negate = True
            self.expect("kw", "NULL")
            return lambda v: (v.get(key) is None) != negate
        if self.at("kw", "NOT"):
            self.take()
            negate = True
        op = self.take()
        inner: Predicate
        if op.kind == "kw" and op.text == "BETWEEN":
            low = self.literal()
            self.expect("kw", "AND")
            high = self.literal()
            inner = _between(key, low, high, numeric)
        elif op.kind == "kw" and op.text == "IN":
            self.expect("op", "(")
            items = [self.literal()]
            while self.at("op", ","):
                self.take()
                items.append(self.literal())
            self.expect("op", ")")
            inner = _in(key, items, numeric)
        elif op.kind == "kw" and op.text == "LIKE":
            inner = _like(key, self.literal())
        elif op.kind == "op" and op.text in ("=", "<>", "!=", "<", "<=", ">", ">=") and not negate:
            inner = _compare(key, op.text, self.literal(), numeric)
        else:
            raise _error(self.text, f"unsupported operator {op.text!r}")
        return (lambda v: not inner(v)) if negate else inner


def _number(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _compare(key: str, op: str, literal: str, numeric: bool) -> Predicate:
    def test(left: Any, right: Any) -> bool:
        if op == "=":
            return bool(left == right)
        if op in ("<>", "!="):
            return bool(left != right)
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        return bool(left >= right)

    if numeric:
        wanted = _number(literal)

        def numeric_test(values: Values) -> bool:
            got = _number(values.get(key))
            return got is not None and wanted is not None and test(got, wanted)

        return numeric_test

    def text_test(values: Values) -> bool:
        got = values.get(key)
        return got is not None and test(got, literal)

    return text_test


def _between(key: str, low: str, high: str, numeric: bool) -> Predicate:
    above, below = _compare(key, ">=", low, numeric), _compare(key, "<=", high, numeric)
    return lambda v: above(v) and below(v)


def _in(key: str, items: list[str], numeric: bool) -> Predicate:
    tests = [_compare(key, "=", item, numeric) for item in items]
    return lambda v: any(t(v) for t in tests)


def _like(key: str, pattern: str) -> Predicate:
    regex = re.compile("".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern), re.DOTALL)

    def test(values: Values) -> bool:
        got = values.get(key)
        return got is not None and regex.fullmatch(got) is not None

    return test


def compile_expression(text: str, key_types: Mapping[str, str]) -> Predicate:
    """A predicate over ``{key: value}`` for ``text``; InvalidInputException with the reason when it is not one.

    ``key_types`` maps each partition key of the table to its Hive type."""
    if len(text) > MAX_EXPRESSION:
        raise InvalidInputException(f"An expression is at most {MAX_EXPRESSION} characters.")
    if not text.strip():
        return lambda _values: True
    return _Parser(text, key_types).parse()
