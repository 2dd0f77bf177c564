"""A kemu query file as Flink SQL: the window aggregation, the Top-N, and the columns of each result row.

The query is parsed by sqlglot in DuckDB's dialect (after :func:`analytics.dialect.to_duckdb`, so both spellings of
the window functions are read) and rewritten as a tree, never as text:

* ``FROM TUMBLE(events, DESCRIPTOR(t), size)`` becomes Flink's ``FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(t),
  size))``, grouped by ``window_start, window_end, window_time`` (``window_time`` keeps the event-time attribute
  for the steps after the aggregation);
* ``ROW_NUMBER() OVER (...) ... QUALIFY rank <= N`` becomes Flink's Window Top-N: the aggregation in a view, the
  ranking in an outer query partitioned by ``window_start, window_end``, and the ``rank <= N`` filter outside it;
  an ``ORDER BY`` on a row value ``(-SUM(points), player_id)`` becomes the list of its terms;
* every expression is written by the Flink dialect of :mod:`analytics.flink.dialect` with DuckDB's meaning.

Anything else fails here, with the file, the line and the reason, before a job is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import sqlglot
from sqlglot import exp

from analytics import dialect
from analytics.exceptions import QueryError
from analytics.flink.dialect import KemuDuckDB, UntranslatableError, check_translatable, interval_literal, to_flink
from analytics.plan import CompiledQuery, window_plan

#: The window table functions and the collection step's tumble (a window of the results, see :mod:`job`).
_WINDOW_FUNCTIONS = {"TUMBLE", "HOP", "CUMULATE", "SESSION"}


@dataclass(frozen=True)
class Column:
    """One column of a result row: its name in the row and DuckDB's type (timestamps are written as ISO text)."""

    name: str
    duckdb_type: str
    #: The column's position in the result row: it is ``__c<index>`` in ``rows_sql`` (the names a query gives its
    #: columns, ``window_start`` among them, would clash with the window columns of the steps after it).
    index: int = 0

    @property
    def ref(self) -> str:
        return f"`__c{self.index}`"

    @property
    def is_timestamp(self) -> bool:
        return self.duckdb_type.startswith("TIMESTAMP")


@dataclass(frozen=True)
class Translated:
    """The query as Flink views: ``rows_sql`` selects one row per result row, with the columns
    ``__ws``, ``__we`` (TIMESTAMP(3)) and ``__wt`` (the rowtime attribute) before the result's own columns."""

    rows_sql: str
    columns: tuple[Column, ...]
    #: The events the query counts (its WHERE), as a view ``__input`` of the source table ``events``: filtered
    #: before the window function, so that (as on kemu) only they form sessions.
    input_sql: str
    #: Flink's window table function call over the source table (for the record of what was translated).
    window_call: str


def _line_of(text: str, node: exp.Expr | None, fallback: str = "") -> int:
    """The line of the user's file where ``node`` (or failing that, the word ``fallback``) first appears."""
    words = [fallback] if fallback else []
    if node is not None:
        if isinstance(node, exp.Anonymous):
            words.append(str(node.this))
        elif isinstance(node, exp.Func):
            words.append(node.sql_name())
        words += [c.name for c in node.find_all(exp.Column)]
    for word in words:
        for number, line in enumerate(text.splitlines(), start=1):
            if line.lstrip().startswith("--"):
                continue
            if re.search(rf"(?i)\b{re.escape(word)}\b", line):
                return number
    return next((n for n, ln in enumerate(text.splitlines(), 1) if ln.strip() and not ln.strip().startswith("--")), 1)


class _Translator:
    def __init__(self, query: CompiledQuery) -> None:
        self.query = query
        self.text = query.path.read_text(encoding="utf-8") if query.path.is_file() else ""
        self.timestamps = {name.lower() for name, kind in query.source.columns if kind == "TIMESTAMP"}

    def fail(self, reason: str, node: exp.Expr | None = None, word: str = "") -> QueryError:
        return QueryError(self.query.path, _line_of(self.text, node, word), f"cannot run on Flink: {reason}")

    def flink(self, node: exp.Expression) -> str:
        """``node`` in Flink's spelling; source timestamps read as TIMESTAMP(3) in UTC (the job's time zone)."""
        try:
            check_translatable(node)
        except UntranslatableError as exc:
            raise self.fail(str(exc), exc.node) from exc

        def local_time(candidate: exp.Expression) -> exp.Expression:
            if isinstance(candidate, exp.Column) and candidate.name.lower() in self.timestamps:
                return exp.Cast(this=candidate.copy(), to=exp.DataType.build("TIMESTAMP"))
            return candidate

        try:
            return to_flink(node.copy().transform(local_time))
        except UntranslatableError as exc:
            raise self.fail(str(exc), exc.node or node) from exc

    def result_columns(self) -> tuple[Column, ...]:
        """The result row's columns and types, as DuckDB gives them (the query run on an empty source)."""
        con = duckdb.connect()
        try:
            con.register("events", self.query.source.arrow_schema().empty_table())
            described = con.execute(f"DESCRIBE {window_plan(self.query).batch_sql}").fetchall()
        finally:
            con.close()
        return tuple(Column(str(row[0]), str(row[1]), i) for i, row in enumerate(described))

    def window_call(self, select: exp.Select, keys: list[exp.Expression]) -> str:
        source = select.args.get("from_")
        table = source.this if isinstance(source, exp.From) else None
        call = table.this if isinstance(table, exp.Table) else None
        name = str(call.this).upper() if isinstance(call, exp.Anonymous) else ""
        if call is None or name not in _WINDOW_FUNCTIONS:
            raise self.fail(
                "only windowed queries (FROM TUMBLE/HOP/CUMULATE/SESSION) are translated; a stateless query runs "
                "on kemu's engine",
                word="FROM",
            )
        window = self.query.window
        assert window is not None  # noqa: S101 - compile_query found the same window function
        column = f"`{window.time_column}`"
        if window.kind in ("tumble", "session"):
            sizes = interval_literal(window.size_ms)
        else:
            sizes = f"{interval_literal(window.slide_ms)}, {interval_literal(window.size_ms)}"
        table = "TABLE `__input`"
        if window.kind == "session" and keys:
            # kemu forms sessions per value of the GROUP BY keys: Flink's sessions PARTITION BY the same columns.
            columns = self.query.source.column_names()
            named = []
            for key in keys:
                if not isinstance(key, exp.Column) or key.name not in columns:
                    raise self.fail("a SESSION query's GROUP BY keys must be source columns to run on Flink", key)
                named.append(f"`{key.name}`")
            table += f" PARTITION BY {', '.join(named)}"
        return f"TABLE({name}({table}, DESCRIPTOR({column}), {sizes}))"

    def translate(self) -> Translated:
        if self.query.window is None:
            raise self.fail("only windowed queries are translated; a stateless query runs on kemu's engine")
        try:
            select = sqlglot.parse_one(dialect.to_duckdb(self.text), read=KemuDuckDB)
        except sqlglot.errors.ParseError as exc:
            errors = exc.errors[0] if exc.errors else {}
            line = int(errors.get("line") or 0) or _line_of(self.text, None)
            reason = f"cannot run on Flink: sqlglot cannot parse the query: {errors.get('description', exc)}"
            raise QueryError(self.query.path, line, reason) from exc
        if not isinstance(select, exp.Select):
            raise self.fail("the query must be one SELECT")
        groups = select.args.get("group")
        key_nodes = [
            key
            for key in (groups.expressions if groups else [])
            if not (isinstance(key, exp.Column) and key.name.lower() in ("window_start", "window_end"))
        ]
        window_call = self.window_call(select, key_nodes)
        columns = self.result_columns()
        items = list(select.expressions)
        if any(isinstance(item, exp.Star) for item in items) or len(items) != len(columns):
            raise self.fail("SELECT * is not translated; name the columns", word="SELECT")

        ranking: exp.Window | None = None
        rank_index = -1
        aggregated: list[str] = []
        for index, (item, column) in enumerate(zip(items, columns, strict=True)):
            body = item.this if isinstance(item, exp.Alias) else item
            windows = list(body.find_all(exp.Window))
            if windows:
                if body is not windows[0] or ranking is not None:
                    raise self.fail("a ranking must be a whole select item, and only one", windows[0])
                ranking, rank_index = body, index
                continue
            aggregated.append(f"{self.flink(body)} AS {column.ref}")

        order_terms: list[tuple[exp.Expression, bool, bool]] = []
        if ranking is not None:
            order_terms = self.ranking_terms(ranking)
        hidden = [f"{self.flink(term)} AS `__o{i}`" for i, (term, _, _) in enumerate(order_terms)]

        keys = [self.flink(key) for key in key_nodes]
        where = select.args.get("where")
        having = select.args.get("having")
        input_sql = "SELECT * FROM `events`" + (f" WHERE {self.flink(where.this)}" if where is not None else "")
        aggregation = (
            "SELECT `window_start` AS `__ws`, `window_end` AS `__we`, `window_time` AS `__wt`, "
            + ", ".join([*aggregated, *hidden])
            + f" FROM {window_call}"
            + " GROUP BY "
            + ", ".join(["`window_start`", "`window_end`", "`window_time`", *keys])
            + (f" HAVING {self.flink(having.this)}" if having is not None else "")
        )
        qualify = select.args.get("qualify")
        if ranking is None:
            if qualify is not None:
                raise self.fail("QUALIFY without a ROW_NUMBER() select item is not translated", qualify)
            return Translated(aggregation, columns, input_sql, window_call)

        order = ", ".join(
            f"`__o{i}` {'DESC' if desc else 'ASC'} NULLS {'FIRST' if nulls_first else 'LAST'}"
            for i, (_, desc, nulls_first) in enumerate(order_terms)
        )
        limit = self.top_n(qualify, columns[rank_index].name)
        names = [c.ref for c in columns]
        ranked = (
            f"SELECT `__ws`, `__we`, `__wt`, {', '.join(names)} FROM ("
            f"SELECT `__ws`, `__we`, `__wt`, {', '.join(n for i, n in enumerate(names) if i != rank_index)}, "
            f"ROW_NUMBER() OVER (PARTITION BY `__ws`, `__we` ORDER BY {order}) AS {names[rank_index]} "
            f"FROM ({aggregation})) WHERE {names[rank_index]} <= {limit}"
        )
        return Translated(ranked, columns, input_sql, window_call)

    def ranking_terms(self, ranking: exp.Window) -> list[tuple[exp.Expression, bool, bool]]:
        """The ORDER BY terms of the ranking as (expression, descending, nulls first), row values expanded; checks
        that it is a ROW_NUMBER per window."""
        function = ranking.this
        if not isinstance(function, exp.RowNumber):
            raise self.fail("only ROW_NUMBER() rankings are translated (Flink's Window Top-N)", ranking)
        partition = [p for p in ranking.args.get("partition_by") or []]
        named = {p.name.lower() for p in partition if isinstance(p, exp.Column)}
        if len(named) != len(partition) or not named <= {"window_start", "window_end"} or "window_start" not in named:
            raise self.fail("the ranking must be PARTITION BY window_start, window_end", ranking)
        window = self.query.window
        if "window_end" not in named and window is not None and window.kind in ("cumulate", "session"):
            raise self.fail(
                f"a {window.kind.upper()} ranking PARTITION BY window_start alone mixes windows that share a start; "
                "partition by window_start, window_end",
                ranking,
            )
        ordered = ranking.args.get("order")
        terms: list[tuple[exp.Expression, bool, bool]] = []
        for term in ordered.expressions if ordered is not None else []:
            inner = term.this if isinstance(term, exp.Ordered) else term
            desc = bool(term.args.get("desc")) if isinstance(term, exp.Ordered) else False
            # DuckDB sorts NULLs last in both directions unless told otherwise.
            nulls_first = bool(term.args.get("nulls_first")) if isinstance(term, exp.Ordered) else False
            parts = inner.expressions if isinstance(inner, exp.Tuple) else [inner]
            terms += [(part, desc, nulls_first) for part in parts]
        if not terms:
            raise self.fail("the ranking needs an ORDER BY", ranking)
        return terms

    def top_n(self, qualify: exp.Expression | None, rank: str) -> int:
        """N of ``QUALIFY rank <= N`` (also ``< N`` and ``= 1``), the only filters Flink's Window Top-N takes."""
        condition = qualify.this if isinstance(qualify, exp.Qualify) else qualify
        if isinstance(condition, exp.Paren):
            condition = condition.this
        if isinstance(condition, (exp.LTE, exp.LT, exp.EQ)):
            left, right = condition.this, condition.expression
            literal = isinstance(right, exp.Literal) and not right.is_string and str(right.this).isdigit()
            if isinstance(left, exp.Column) and left.name == rank and literal:
                value = int(str(right.this)) - (1 if isinstance(condition, exp.LT) else 0)
                if isinstance(condition, exp.EQ) and value != 1:
                    raise self.fail(f"QUALIFY {rank} = {value} is not a Top-N; use {rank} <= N", condition)
                if value >= 1:
                    return value
        raise self.fail(
            f"a ranking needs QUALIFY {rank} <= N (Flink's Window Top-N takes no other filter)",
            condition,
            word="QUALIFY",
        )


def translate(query: CompiledQuery) -> Translated:
    """``query`` as Flink SQL; raises :class:`QueryError` (file, line, reason) for what has no translation."""
    return _Translator(query).translate()
