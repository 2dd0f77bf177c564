"""Flink SQL as a sqlglot dialect: how a translated DuckDB expression is written for Apache Flink.

sqlglot parses kemu's query files in DuckDB's dialect; this generator writes the same expression trees in Flink's
(Calcite's) spelling. Only the expressions in :data:`TRANSLATABLE` are accepted: each of them is written so that
Flink computes what DuckDB does, which is not always the same function (DuckDB's ``/`` always divides as floating
point and gives NULL for a division by zero; Flink's divides integers as integers and gives Infinity; DuckDB's
``regexp_extract`` gives ``''`` where Flink's gives NULL; ``AVG`` of integers is an integer in Flink).
"""

from __future__ import annotations

from typing import ClassVar

from sqlglot import exp, generator, tokens
from sqlglot.dialects.dialect import Dialect
from sqlglot.dialects.duckdb import DuckDB

from analytics.durations import parse_duration_ms

#: strftime's directives and their java.time equivalents (DATE_FORMAT); others have no translation.
STRFTIME_TO_JAVA = {
    "%Y": "yyyy",
    "%m": "MM",
    "%d": "dd",
    "%H": "HH",
    "%M": "mm",
    "%S": "ss",
    "%g": "SSS",
    "%j": "DDD",
    "%%": "%",
}

#: Expression classes a query may use, each written for Flink by the generator below with DuckDB's meaning.
TRANSLATABLE: tuple[type[exp.Expression], ...] = (
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Alias,
    exp.Paren,
    exp.Neg,
    exp.Not,
    exp.And,
    exp.Or,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Is,
    exp.In,
    exp.Between,
    exp.Like,
    exp.ILike,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.Mod,
    exp.DPipe,
    exp.Case,
    exp.If,
    exp.Coalesce,
    exp.Nullif,
    exp.Cast,
    exp.DataType,
    exp.Interval,
    exp.Var,
    exp.Star,
    exp.Sum,
    exp.Count,
    exp.Min,
    exp.Max,
    exp.Avg,
    exp.Filter,
    exp.Where,
    exp.Round,
    exp.Abs,
    exp.Floor,
    exp.Ceil,
    exp.Lower,
    exp.Upper,
    exp.Length,
    exp.Substring,
    exp.RegexpExtract,
    exp.RegexpLike,
    exp.TimeToStr,
    exp.Greatest,
    exp.Least,
)


class UntranslatableError(ValueError):
    """An expression with no Flink translation; ``node`` is the expression, for its position in the file."""

    def __init__(self, message: str, node: exp.Expr | None = None) -> None:
        super().__init__(message)
        self.node = node


def java_format(strftime: str) -> str:
    """A strftime format as a java.time pattern (literal text quoted); raises for a directive without one."""
    out: list[str] = []
    literal = ""
    i = 0
    while i < len(strftime):
        directive = strftime[i : i + 2]
        if strftime[i] == "%":
            if directive not in STRFTIME_TO_JAVA:
                raise UntranslatableError(f"strftime directive {directive!r} has no Flink DATE_FORMAT equivalent")
            if directive == "%%":
                literal += "%"
            else:
                out.append(_quoted(literal))
                literal = ""
                out.append(STRFTIME_TO_JAVA[directive])
            i += 2
            continue
        literal += strftime[i]
        i += 1
    out.append(_quoted(literal))
    return "".join(out)


def _quoted(literal: str) -> str:
    """Literal text of a java.time pattern: letters and quotes must be quoted, other characters may stay bare."""
    if not literal:
        return ""
    if any(c.isalpha() or c == "'" for c in literal):
        return "'" + literal.replace("'", "''") + "'"
    return literal


def interval_literal(milliseconds: int) -> str:
    """A Flink interval of ``milliseconds`` (DAY TO SECOND: any length up to 99 days, to the millisecond)."""
    days, rest = divmod(milliseconds, 86_400_000)
    hours, rest = divmod(rest, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"INTERVAL '{days} {hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}' DAY TO SECOND(3)"


def interval_ms(expression: exp.Interval) -> int:
    """The length of a constant day-time interval; raises :class:`UntranslatableError` for months and years
    (their length varies) or a value that is not a constant."""
    unit = expression.args.get("unit")
    value = expression.this
    text = f"{value.this if isinstance(value, exp.Literal) else value} {unit.name if unit is not None else ''}"
    lowered = text.strip().lower()
    if unit is not None and lowered.endswith(("day", "days")):
        lowered = f"{float(lowered.split()[0]) * 24} hours"
    try:
        return parse_duration_ms(lowered)
    except ValueError as exc:
        raise UntranslatableError(f"interval {expression.sql('duckdb')} has no fixed length", expression) from exc


def _div(self: generator.Generator, expression: exp.Div) -> str:
    # DuckDB's "/" is a floating-point division whose division by zero is NULL.
    numerator = self.sql(expression, "this")
    denominator = self.sql(expression, "expression")
    return f"CAST({numerator} AS DOUBLE) / NULLIF({denominator}, 0)"


def _avg(self: generator.Generator, expression: exp.Avg) -> str:
    return f"AVG(CAST({self.sql(expression, 'this')} AS DOUBLE))"


def _interval(self: generator.Generator, expression: exp.Interval) -> str:
    return interval_literal(interval_ms(expression))


def _regexp_extract(self: generator.Generator, expression: exp.RegexpExtract) -> str:
    group = self.sql(expression, "group") or "0"
    call = f"REGEXP_EXTRACT({self.sql(expression, 'this')}, {self.sql(expression, 'expression')}, {group})"
    return f"COALESCE({call}, '')"


def _regexp_like(self: generator.Generator, expression: exp.RegexpLike) -> str:
    return f"REGEXP({self.sql(expression, 'this')}, {self.sql(expression, 'expression')})"


def _time_to_str(self: generator.Generator, expression: exp.TimeToStr) -> str:
    form = expression.args.get("format")
    if not isinstance(form, exp.Literal) or not form.is_string:
        raise UntranslatableError("strftime needs a constant format to be translated", expression)
    pattern = java_format(form.this).replace("'", "''")
    return f"DATE_FORMAT({self.sql(expression, 'this')}, '{pattern}')"


def _ilike(self: generator.Generator, expression: exp.ILike) -> str:
    return f"LOWER({self.sql(expression, 'this')}) LIKE LOWER({self.sql(expression, 'expression')})"


def _if(self: generator.Generator, expression: exp.If) -> str:
    false = self.sql(expression, "false")
    otherwise = f" ELSE {false}" if false else ""
    return f"CASE WHEN {self.sql(expression, 'this')} THEN {self.sql(expression, 'true')}{otherwise} END"


class KemuDuckDB(DuckDB):
    """DuckDB's dialect as kemu's query files use it: ``SESSION`` is a window function there, not a keyword."""

    class Tokenizer(DuckDB.Tokenizer):
        KEYWORDS: ClassVar = {k: v for k, v in DuckDB.Tokenizer.KEYWORDS.items() if k != "SESSION"}


class Flink(Dialect):
    """Apache Flink SQL (Calcite): backquoted identifiers, STRING for text, Java regular expressions."""

    class Tokenizer(tokens.Tokenizer):
        IDENTIFIERS: ClassVar = ["`"]
        QUOTES: ClassVar = ["'"]

    class Generator(generator.Generator):
        TYPE_MAPPING: ClassVar = {
            **generator.Generator.TYPE_MAPPING,
            exp.DataType.Type.TEXT: "STRING",
            exp.DataType.Type.VARCHAR: "STRING",
            exp.DataType.Type.CHAR: "STRING",
            exp.DataType.Type.NVARCHAR: "STRING",
            exp.DataType.Type.BIGINT: "BIGINT",
            exp.DataType.Type.INT: "INT",
            exp.DataType.Type.DOUBLE: "DOUBLE",
            exp.DataType.Type.FLOAT: "FLOAT",
            exp.DataType.Type.TIMESTAMP: "TIMESTAMP(3)",
        }
        TRANSFORMS: ClassVar = {
            **generator.Generator.TRANSFORMS,
            exp.Div: _div,
            exp.Avg: _avg,
            exp.RegexpExtract: _regexp_extract,
            exp.RegexpLike: _regexp_like,
            exp.TimeToStr: _time_to_str,
            exp.ILike: _ilike,
            exp.If: _if,
            exp.Interval: _interval,
        }


#: Types written the same way in both dialects.
_PLAIN_TYPES = {exp.DataType.Type.BOOLEAN, exp.DataType.Type.DECIMAL, exp.DataType.Type.INTERVAL}


def check_translatable(tree: exp.Expression) -> None:
    """Raise :class:`UntranslatableError` at the first expression Flink cannot be given with the same meaning."""
    for node in tree.walk():
        if not isinstance(node, TRANSLATABLE):
            name = node.sql_name() if isinstance(node, exp.Func) else type(node).__name__
            if isinstance(node, exp.Anonymous):
                name = str(node.this)
            raise UntranslatableError(f"{name} has no Flink translation in kemu yet", node)
        if isinstance(node, exp.DataType) and node.this not in _PLAIN_TYPES | set(Flink.Generator.TYPE_MAPPING):
            raise UntranslatableError(f"type {node.sql('duckdb')} has no Flink translation in kemu yet", node)


def to_flink(tree: exp.Expression) -> str:
    """The expression in Flink's spelling (identifiers quoted)."""
    return tree.sql(dialect=Flink, identify=True)
