"""Turning a query file into the SQL the incremental engine runs, validated at load time.

A windowed query ``SELECT … FROM TUMBLE(events, DESCRIPTOR(t), INTERVAL '1 minute') WHERE … GROUP BY window_start,
window_end, k … HAVING … QUALIFY …`` is split in three statements over DuckDB's own syntax tree:

* ``partial_sql``: per micro-batch, the batch's rows assigned to windows, filtered by WHERE, grouped by
  (window, keys) into partial aggregates (SUM, COUNT, MIN, MAX; AVG as SUM and COUNT);
* ``merge_sql``: the open windows' partials merged with the batch's (the state never holds raw events);
* ``result_sql``: the user's SELECT list, HAVING, QUALIFY and ORDER BY over merged partials of chosen windows.

A HOP gives each event as many windows as its size holds slides (60 for 10 minutes every 10 seconds). When the
query's WHERE, keys and aggregates do not read the window columns, two more statements let the engine aggregate
each event once, into its *pane* (a tumbling window of gcd(size, slide), whose events all share their windows):
``pane_sql`` pre-aggregates a batch per (pane, keys), and ``expand_sql`` turns those rows into the windows' partials
just before a merge, so the expansion is paid per (pane, key) instead of per event.

A query reading ``FROM events`` without a window is stateless (streaming ETL) and runs as written on each batch.
"""

from __future__ import annotations

import copy
import hashlib
import math
import re
from pathlib import Path

import duckdb
import pyarrow as pa

from analytics import dialect, sqlast
from analytics.columns import (
    BATCH,
    ET,
    GROUP_PREFIX,
    LATE,
    MISSED_WE,
    MISSED_WS,
    OFFSET,
    OPEN,
    PANE,
    PANES,
    PARTIALS,
    PARTITION,
    ROWS,
    SEL,
    STATE,
    TOUCHED,
    WE,
    WM,
    WS,
    group,
    partial,
)
from analytics.exceptions import QueryError
from analytics.header import Header, parse_header
from analytics.plan import CompiledQuery, EtlPlan, PanePlan, Plan, WindowPlan
from analytics.sessions import WATERMARK_TOKEN, session_late_sql, session_merge_sql
from analytics.sources import Source
from analytics.sqlast import Node
from analytics.windows import WindowKind, WindowSpec, floor_mod, timed_sql, windowed_sql

#: Columns the engine adds to every decoded batch so late and bad records can be traced to their offsets.
BATCH_META = ((PARTITION, pa.int32()), (OFFSET, pa.int64()))
#: The layout of a query's state (its partial aggregates), part of its fingerprint: a checkpoint written by an
#: engine that laid the same query's state out otherwise (before exact float sums, "1") is refused, not misread.
STATE_FORMAT = "2"
#: The rows of a batch a SESSION query's operator found late, which its ``partial_sql`` leaves out.
LATE_KEYS = pa.schema(BATCH_META)

_WINDOW_FUNCTIONS: dict[str, WindowKind] = {
    "tumble": "tumble",
    "hop": "hop",
    "cumulate": "cumulate",
    "session": "session",
}
_INCREMENTAL = {"sum", "count", "count_star", "min", "max", "avg"}
#: Floating-point values are summed exactly as decimals of this scale (see ``_Compiler.exact_sum``) when their
#: magnitude is below ``_EXACT_BELOW``; larger ones (and NaN, infinities) in a plain DOUBLE sum beside it. The bound
#: leaves 10^10 additions of headroom in DECIMAL(38, 10) before an overflow.
_EXACT_SCALE = 10
_EXACT_BELOW = "1e18"
_FLOAT_TYPES = {"FLOAT", "DOUBLE", "REAL"}


def _line_of(text: str, position: int | None) -> int:
    return 1 if position is None else text[:position].count("\n") + 1


def _line_naming(text: str, message: str) -> int:
    """The first SQL line that mentions a name quoted in DuckDB's message (binder errors carry no position)."""
    names = re.findall(r'"([^"]+)"', message)
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("--"):
            continue
        if any(re.search(rf"\b{re.escape(name)}\b", line) for name in names):
            return number
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("--"):
            return number
    return 1


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else message


class _Compiler:
    def __init__(self, path: Path, text: str, header: Header, source: Source) -> None:
        self.path, self.text, self.header, self.source = path, text, header, source
        #: The text in DuckDB's spelling (Flink's window syntax rewritten in place, see :mod:`analytics.dialect`).
        self.sql = text
        #: The source columns the query's batches hold (see :attr:`CompiledQuery.decodes`); all until it is parsed.
        self.decodes: tuple[str, ...] = tuple(source.column_names())
        self.con = duckdb.connect()
        self.aggregates = {
            str(row[0]).lower()
            for row in self.con.sql(
                "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type = 'aggregate'"
            ).fetchall()
        }

    def fail(self, reason: str, line: int | None = None) -> QueryError:
        return QueryError(self.path, line if line is not None else _line_naming(self.text, reason), reason)

    def expr(self, sql: str) -> Node:
        node: Node = sqlast.parse_statements(self.con, f"SELECT {sql}")[0]["select_list"][0]
        return node

    def render(self, node: Node) -> str:
        return sqlast.render_statement(self.con, node)

    def render_expr(self, expression: Node) -> str:
        holder = sqlast.parse_statements(self.con, "SELECT 1")[0]
        holder["select_list"] = [sqlast.with_alias(expression, "")]
        return self.render(holder).removeprefix("SELECT ")

    def register_empty_tables(self) -> None:
        """``events`` and ``__batch`` (with the engine's columns) as empty tables of the source's types, holding only
        the columns the query's batches will hold: a statement that names another fails here, not on live data."""
        schema = self.source.arrow_schema(self.decodes)
        empty = schema.empty_table()
        for name, kind in BATCH_META:
            empty = empty.append_column(name, pa.array([], kind))
        self.con.register("events", schema.empty_table())
        self.con.register(BATCH, empty)
        self.con.register(LATE, LATE_KEYS.empty_table())

    def type_of(self, expression: Node, window: WindowSpec) -> str:
        """DuckDB's type of ``expression`` over a windowed batch (the arguments of aggregates are typed this way)."""
        sql = f"SELECT {self.render_expr(expression)} AS __x FROM ({windowed_sql(window, BATCH)})"
        try:
            return str(self.con.execute(f"DESCRIBE {sql}").fetchall()[0][1])
        except duckdb.Error as exc:
            raise self.fail(_first_line(str(exc))) from exc

    def exact_sum(self, call: Node, argument: Node, base: int) -> tuple[list[tuple[str, Node]], str]:
        """The partials (two sums) of an exact floating-point SUM of ``argument``, and their total as SQL.

        Floating-point addition is not associative, so a plain SUM depends on the order DuckDB's threads and the
        micro-batches add the values in: 354.48 in one replay, 354.4800000000001 in the next. Values below
        ``_EXACT_BELOW`` are summed as DECIMAL(38, 10), exactly, so any order gives the same total, rounded to a
        double once at the end; larger values, NaN and infinities go to a DOUBLE sum beside it, which no realistic
        stream reaches (and which, being that large, are beyond the decimals' precision anyway)."""
        x = self.render_expr(argument)
        small = self.expr(f"CASE WHEN abs({x}) < {_EXACT_BELOW} THEN CAST({x} AS DECIMAL(38, {_EXACT_SCALE})) END")
        large = self.expr(f"CASE WHEN NOT (abs({x}) < {_EXACT_BELOW}) THEN CAST({x} AS DOUBLE) END")
        partials = [
            ("sum", sqlast.function_call("sum", [small], template=call)),
            ("sum", sqlast.function_call("sum", [large], template=call)),
        ]
        a, b = partial(base), partial(base + 1)
        exact = f"CAST({a} AS DOUBLE)"
        total = f"CASE WHEN {a} IS NULL THEN {b} WHEN {b} IS NULL THEN {exact} ELSE {exact} + {b} END"
        return partials, total

    def total_order(self, modifiers: list[Node], columns: int, star: bool) -> list[Node]:
        """``modifiers`` with an ORDER BY that orders every row: the user's terms first, then every column in
        select-list order (``ORDER BY ALL`` when there were none). A result's rows, and so the records made of them,
        then come in one order in every run, whatever order DuckDB's threads produced them in."""
        ordered = [m for m in modifiers if m.get("type") == "ORDER_MODIFIER"]
        if not ordered:
            every = sqlast.parse_statements(self.con, "SELECT 1 ORDER BY ALL")[0]["modifiers"][0]
            return [every, *modifiers]
        if star:
            return modifiers  # the number of columns is not known before binding: ties stay as DuckDB leaves them
        positions = ", ".join(str(i) for i in range(1, columns + 1))
        extra = sqlast.parse_statements(self.con, f"SELECT 1 ORDER BY {positions}")[0]["modifiers"][0]["orders"]
        ordered[0]["orders"] = [*ordered[0]["orders"], *extra]
        return modifiers

    def interval_ms(self, expression: Node) -> int:
        try:
            rows = self.con.sql(f"SELECT CAST(epoch(({self.render_expr(expression)})::INTERVAL) * 1000 AS BIGINT)")
            value = rows.fetchall()[0]
        except duckdb.Error as exc:
            raise self.fail(f"window size is not an interval: {_first_line(str(exc))}") from exc
        if value is None or value[0] is None or int(value[0]) <= 0:
            raise self.fail("window sizes must be positive intervals")
        return int(value[0])

    # -- the statement -------------------------------------------------------------------------------------------
    def statement(self) -> Node:
        try:
            self.sql = dialect.to_duckdb(self.text)
        except dialect.DialectError as exc:
            raise self.fail(str(exc), _line_of(self.text, exc.position)) from exc
        try:
            nodes = sqlast.parse_statements(self.con, self.sql)
        except sqlast.SqlSyntaxError as exc:
            raise self.fail(f"syntax error: {exc}", _line_of(self.text, exc.position)) from exc
        if len(nodes) != 1:
            raise self.fail(f"a query file holds exactly one SELECT statement, found {len(nodes)}", 1)
        node = nodes[0]
        if node.get("type") != "SELECT_NODE":
            raise self.fail("the query must be a single SELECT (no UNION at the top level)", 1)
        return node

    def window_of(self, node: Node) -> WindowSpec | None:
        table = node["from_table"]
        if table.get("type") == "BASE_TABLE" and table.get("table_name", "").lower() == "events":
            return None
        function = table.get("function") if table.get("type") == "TABLE_FUNCTION" else None
        name = str(function.get("function_name", "")).lower() if function else ""
        if function is None or name not in _WINDOW_FUNCTIONS:
            raise self.fail("FROM must be TUMBLE, HOP, CUMULATE or SESSION(...) over events, or the table events")
        arguments = sqlast.call_arguments(function)
        expected = 3 if name in ("tumble", "session") else 4
        if len(arguments) != expected or not sqlast.is_column(arguments[0], "events"):
            raise self.fail(f"{name.upper()} takes (events, DESCRIPTOR(column), {'size' if expected == 3 else 'a, b'})")
        descriptor = arguments[1]
        described = sqlast.call_arguments(descriptor) if descriptor.get("class") == "FUNCTION" else []
        if str(descriptor.get("function_name", "")).lower() != "descriptor" or len(described) != 1:
            raise self.fail(f"the second argument of {name.upper()} must be DESCRIPTOR(<event-time column>)")
        column = str(described[0].get("column_names", [""])[-1])
        if column != self.source.event_time:
            raise self.fail(f"window column {column!r} must be the source's event_time {self.source.event_time!r}")
        sizes = [self.interval_ms(argument) for argument in arguments[2:]]
        try:
            if name in ("tumble", "session"):
                return WindowSpec(_WINDOW_FUNCTIONS[name], column, sizes[0], sizes[0])
            return WindowSpec(_WINDOW_FUNCTIONS[name], column, size_ms=sizes[1], slide_ms=sizes[0])
        except ValueError as exc:
            raise self.fail(str(exc)) from exc

    def aggregate_calls(self, tree: object) -> list[Node]:
        return sqlast.find_all(
            tree, lambda n: n.get("class") == "FUNCTION" and str(n.get("function_name", "")).lower() in self.aggregates
        )

    # -- windowed queries ------------------------------------------------------------------------------------------
    def compile_windowed(self, node: Node, window: WindowSpec) -> WindowPlan:
        if node.get("aggregate_handling") != "STANDARD_HANDLING" or len(node.get("group_sets", [])) != 1:
            raise self.fail("a windowed query needs a plain GROUP BY window_start, window_end[, keys] (no ALL/ROLLUP)")
        groups = node["group_expressions"]
        if not any(sqlast.is_column(g, "window_start") for g in groups) or not any(
            sqlast.is_column(g, "window_end") for g in groups
        ):
            raise self.fail("a windowed query must GROUP BY window_start, window_end (plus its keys)")
        keys = [g for g in groups if not (sqlast.is_column(g, "window_start") or sqlast.is_column(g, "window_end"))]
        if self.aggregate_calls(node.get("where_clause")):
            raise self.fail("aggregates are not allowed in WHERE; use HAVING")

        # Partial aggregates, one per distinct aggregate call; the final expression rebuilt from them.
        partials: list[tuple[str, Node]] = []  # (merge function, partial expression)
        finals: dict[str, Node] = {}
        for call in self.aggregate_calls(
            [node["select_list"], node.get("having"), node.get("qualify"), node["modifiers"]]
        ):
            key = sqlast.canonical(call)
            if key in finals:
                continue
            function = str(call["function_name"]).lower()
            if function not in _INCREMENTAL or call.get("distinct") or len(sqlast.call_arguments(call)) > 1:
                shown = self.render_expr(call)
                raise self.fail(f"aggregate {shown} cannot be computed incrementally; use SUM, COUNT, MIN, MAX or AVG")
            arguments = sqlast.call_arguments(call)
            base = len(partials)
            if function in ("sum", "avg") and self.type_of(arguments[0], window) in _FLOAT_TYPES:
                exact, total = self.exact_sum(call, arguments[0], base)
                partials += exact
                if function == "avg":
                    partials.append(("sum", sqlast.function_call("count", arguments, template=call)))
                    total = f"({total}) / NULLIF({partial(base + 2)}, 0)"
                finals[key] = self.expr(total)
            elif function == "avg":
                partials.append(("sum", sqlast.function_call("sum", arguments, template=call)))
                partials.append(("sum", sqlast.function_call("count", arguments, template=call)))
                finals[key] = self.expr(f"CAST({partial(base)} AS DOUBLE) / NULLIF({partial(base + 1)}, 0)")
            else:
                merge = {"count": "sum", "count_star": "sum"}.get(function, function)
                partials.append((merge, sqlast.with_alias(call, "")))
                finals[key] = self.expr(f"CAST({partial(base)} AS BIGINT)" if merge != function else partial(base))
        group_refs = {sqlast.canonical(g): sqlast.column_ref(group(i)) for i, g in enumerate(keys)}

        stage1 = copy.deepcopy(node)
        stage1["select_list"] = [
            sqlast.column_ref(WS),
            sqlast.column_ref(WE),
            *[sqlast.with_alias(g, group(i)) for i, g in enumerate(keys)],
            *[sqlast.with_alias(p, partial(j)) for j, (_, p) in enumerate(partials)],
        ]
        stage1["from_table"] = sqlast.base_table("__windowed")
        stage1["group_expressions"] = [sqlast.column_ref(WS), sqlast.column_ref(WE), *keys]
        stage1["group_sets"] = [list(range(len(stage1["group_expressions"])))]
        stage1["having"], stage1["qualify"], stage1["modifiers"] = None, None, []
        windowed = windowed_sql(window, BATCH)
        if window.kind == "session":
            # A session event's lateness depends on the open sessions it merges with: the operator finds the late
            # ones first (``session_late_sql``) and passes them as ``__late``.
            on_time = f"SELECT * FROM ({windowed}) ANTI JOIN {LATE} USING ({PARTITION}, {OFFSET})"
        else:
            on_time = f"SELECT * FROM ({windowed}) WHERE {WE} + {self.header.lateness_ms} > {WATERMARK_TOKEN}"
        partial_sql = f"WITH __windowed AS ({on_time}) {self.render(stage1)}"

        columns = [WS, WE, *[group(i) for i in range(len(keys))]]
        merged = ", ".join(f"{merge}({partial(j)}) AS {partial(j)}" for j, (merge, _) in enumerate(partials))
        merge_sql = (
            f"SELECT {', '.join(columns)}{', ' if merged else ''}{merged} FROM "
            f"(SELECT * FROM {STATE} UNION ALL SELECT * FROM {PARTIALS}) GROUP BY {', '.join(columns)}"
        )
        if window.kind == "session":
            merge_sql = session_merge_sql(len(keys), [merge for merge, _ in partials])

        def rewrite(candidate: Node) -> Node | None:
            key = sqlast.canonical(candidate)
            replacement = finals.get(key) or group_refs.get(key)
            return sqlast.with_alias(replacement, candidate.get("alias", "")) if replacement is not None else None

        select_list = []
        for item in node["select_list"]:
            rewritten = sqlast.transform(item, rewrite)
            if not item.get("alias") and rewritten is not item and item.get("class") != "STAR":
                shown = str(item["column_names"][-1]) if item.get("class") == "COLUMN_REF" else self.render_expr(item)
                rewritten = sqlast.with_alias(rewritten, shown)
            select_list.append(rewritten)
        stage3 = copy.deepcopy(node)
        stage3["select_list"] = [sqlast.column_ref(WS), sqlast.column_ref(WE), *select_list]
        stage3["from_table"] = sqlast.base_table("__m")
        stage3["where_clause"] = sqlast.transform(node.get("having"), rewrite)
        stage3["group_expressions"], stage3["group_sets"], stage3["having"] = [], [], None
        stage3["qualify"] = sqlast.transform(node.get("qualify"), rewrite)
        star = bool(sqlast.find_all(node["select_list"], lambda n: n.get("class") in ("STAR", "COLUMNS")))
        modifiers = sqlast.transform(node["modifiers"], rewrite)
        stage3["modifiers"] = self.total_order(modifiers, len(stage3["select_list"]), star)
        result_sql = (
            f"WITH __m AS (SELECT *, epoch_ms({WS}) AS window_start, epoch_ms({WE}) AS window_end "
            f"FROM {STATE} SEMI JOIN {SEL} USING ({WS}, {WE})) {self.render(stage3)}"
        )

        batch = copy.deepcopy(node)
        batch["from_table"] = sqlast.base_table("__windowed")
        batch_sql = f"WITH __windowed AS ({windowed_sql(window, 'events')}) {self.render(batch)}"
        reads_window = sqlast.find_all(
            [node.get("where_clause"), keys, [p for _, p in partials]],
            lambda n: any(sqlast.is_column(n, c) for c in ("window_start", "window_end", WS, WE, ET)),
        )
        panes = None
        if window.kind == "hop" and not reads_window:
            panes = self.pane_stages(stage1, window, len(keys), len(partials))
        # Late events are the ones the query would have counted: rows its WHERE keeps, in windows that closed.
        rows = copy.deepcopy(node)
        rows["select_list"] = [
            *[sqlast.column_ref(c) for c in (PARTITION, OFFSET, ET, WS, WE)],
            *[sqlast.with_alias(g, group(i)) for i, g in enumerate(keys)],
        ]
        rows["from_table"] = sqlast.base_table("__windowed")
        rows["group_expressions"], rows["group_sets"] = [], []
        rows["having"], rows["qualify"], rows["modifiers"] = None, None, []
        rows_sql = f"WITH __windowed AS ({windowed}) {self.render(rows)}"
        late_sql = (
            f"SELECT {PARTITION}, {OFFSET}, min({ET}) AS {ET}, list({WS} ORDER BY {WS}) AS {MISSED_WS}, "
            f"list({WE} ORDER BY {WS}) AS {MISSED_WE} FROM {ROWS} WHERE {WE} + {self.header.lateness_ms} <= "
            f"{WATERMARK_TOKEN} GROUP BY {PARTITION}, {OFFSET} ORDER BY {PARTITION}, {OFFSET}"
        )
        session_touched_sql = None
        if window.kind == "session":
            late_sql = session_late_sql(len(keys), self.header.lateness_ms)
            session_touched_sql = (
                f"SELECT DISTINCT s.{WS}, s.{WE} FROM {STATE} s JOIN {TOUCHED} t "
                f"ON t.{WS} >= s.{WS} AND t.{WE} <= s.{WE}"
            )
        return WindowPlan(
            window=window,
            partial_sql=partial_sql,
            merge_sql=merge_sql,
            result_sql=result_sql,
            batch_sql=batch_sql,
            rows_sql=rows_sql,
            late_sql=late_sql,
            panes=panes,
            session_touched_sql=session_touched_sql,
        )

    def pane_stages(self, stage1: Node, window: WindowSpec, key_count: int, partial_count: int) -> PanePlan:
        pane = math.gcd(window.size_ms, window.slide_ms)
        panes = copy.deepcopy(stage1)
        panes["select_list"] = [sqlast.column_ref(PANE), *stage1["select_list"][2:]]
        panes["from_table"] = sqlast.base_table("__paned")
        panes["group_expressions"] = [sqlast.column_ref(PANE), *stage1["group_expressions"][2:]]
        panes["group_sets"] = [list(range(len(panes["group_expressions"])))]
        timed = timed_sql(window.time_column, BATCH)
        pane_sql = f"WITH __paned AS (SELECT *, {ET} - {floor_mod(ET, pane)} AS {PANE} FROM ({timed})) " + (
            self.render(panes)
        )
        size, slide = window.size_ms, window.slide_ms
        count = -(-size // slide)
        last = f"{PANE} - {floor_mod(PANE, slide)}"
        columns = ", ".join([*[group(i) for i in range(key_count)], *[partial(j) for j in range(partial_count)]])
        expand_sql = (
            f"SELECT {WS}, {WS} + {size} AS {WE}, {columns} FROM ("
            f"SELECT *, unnest(generate_series({last} - {(count - 1) * slide}, {last}, {slide})) AS {WS} FROM {PANES}"
            f") WHERE {WS} + {size} > {PANE} AND {WS} + {size} + {self.header.lateness_ms} > {WM}"
        )
        return PanePlan(pane_sql, expand_sql)

    # -- load-time validation on empty typed tables -------------------------------------------------------------
    def validate(self, plan: Plan) -> None:
        self.register_empty_tables()
        con = self.con
        try:
            if isinstance(plan, EtlPlan):
                con.sql(plan.sql).fetchall()
                return
            con.sql(plan.batch_sql).fetchall()
            partials = con.sql(plan.partial_sql.replace(WATERMARK_TOKEN, "0")).to_arrow_table()
            con.register(PARTIALS, partials)
            con.register(STATE, partials)
            con.register(STATE, con.sql(plan.merge_sql).to_arrow_table())
            con.register(SEL, pa.table({WS: pa.array([], pa.int64()), WE: pa.array([], pa.int64())}))
            con.sql(plan.result_sql).fetchall()
            if plan.panes is not None:
                panes = con.sql(plan.panes.pane_sql).to_arrow_table()
                panes = panes.append_column(WM, pa.array([], pa.int64()))
                con.register(PANES, panes)
                con.register(PARTIALS, con.sql(plan.panes.expand_sql).to_arrow_table())
                con.sql(plan.merge_sql).fetchall()
            rows = con.sql(plan.rows_sql).to_arrow_table()
            con.register(ROWS, rows)
            con.register(
                OPEN, rows.select([c for c in rows.column_names if c in (WS, WE) or c.startswith(GROUP_PREFIX)])
            )
            con.sql(plan.late_sql.replace(WATERMARK_TOKEN, "0")).fetchall()
            if plan.session_touched_sql is not None:
                con.register(TOUCHED, con.sql(f"SELECT * FROM {SEL}").to_arrow_table())
                con.sql(plan.session_touched_sql).fetchall()
        except duckdb.Error as exc:
            raise self.fail(_first_line(str(exc))) from exc

    def columns_read(self, node: Node) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The source columns ``node`` mentions (sorted by name), and those its batches must hold (in declaration
        order): the mentioned ones and the event time, or every column when it selects with a star.

        Every part of a qualified name counts (``e.points`` and ``points.x`` both mention ``points``): a name that is
        not a source column costs nothing, a source column left out would be missing from the batch."""
        columns = {name.lower(): name for name in self.source.column_names()}
        mentioned = {str(part).lower() for n in sqlast.find_all(node, sqlast.is_column) for part in n["column_names"]}
        # A join's USING (a, b) names its columns as plain strings, not column references.
        joins = sqlast.find_all(node, lambda n: bool(n.get("using_columns")))
        mentioned |= {str(name).lower() for n in joins for name in n["using_columns"]}
        reads = tuple(columns[name] for name in sorted(mentioned) if name in columns)
        if self.reads_whole_rows(node, columns):
            return reads, tuple(self.source.column_names())
        needed = {*reads, self.source.event_time}
        return reads, tuple(name for name in self.source.column_names() if name in needed)

    @staticmethod
    def reads_whole_rows(node: Node, columns: dict[str, str]) -> bool:
        """Whether ``node`` reads rows whole, not column by column: a star (``*``, ``COLUMNS(...)``), a NATURAL join
        (it joins on every column the two sides share), or a table or alias named as a value (``to_json(e)``). Each
        would silently see fewer columns in a narrowed batch, so such a query decodes every column."""
        if sqlast.find_all(node, lambda n: n.get("class") in ("STAR", "COLUMNS") or n.get("ref_type") == "NATURAL"):
            return True
        tables = {"events"}
        for n in sqlast.find_all(node, lambda n: n.get("type") in ("BASE_TABLE", "SUBQUERY", "TABLE_FUNCTION")):
            tables |= {str(n.get("alias") or "").lower(), str(n.get("table_name") or "").lower()}
        # The window function's own argument (``TUMBLE(events, ...)``) names the table, not its rows as a value.
        searched = node
        if node.get("from_table", {}).get("type") == "TABLE_FUNCTION":
            searched = {k: v for k, v in node.items() if k != "from_table"}
        values = sqlast.find_all(searched, sqlast.is_column)
        return any(
            len(n["column_names"]) == 1 and str(n["column_names"][0]).lower() in tables - {""} - set(columns)
            for n in values
        )

    def compile(self) -> CompiledQuery:
        node = self.statement()
        reads, self.decodes = self.columns_read(node)
        window = self.window_of(node)
        self.register_empty_tables()
        fingerprint = hashlib.sha256(f"{STATE_FORMAT}\n{self.text}".encode()).hexdigest()[:16]
        plan: Plan
        if window is None:
            if self.aggregate_calls(node):
                raise self.fail("aggregates need a window: read FROM TUMBLE(events, DESCRIPTOR(...), INTERVAL ...)")
            body = self.sql.strip().rstrip(";")
            plan = EtlPlan(f"WITH events AS (SELECT * EXCLUDE ({PARTITION}, {OFFSET}) FROM {BATCH}) {body}")
        else:
            plan = self.compile_windowed(node, window)
        self.validate(plan)
        return CompiledQuery(
            self.header.name, self.path, self.header, self.source, plan, fingerprint, reads, self.decodes
        )


def compile_query(path: Path, text: str, sources: dict[str, Source]) -> CompiledQuery:
    """Parse, rewrite and validate one query file; raises :class:`QueryError` naming the file, line and reason."""
    header = parse_header(path, text)
    source = sources.get(header.source)
    if source is None:
        line = next((i for i, ln in enumerate(text.splitlines(), 1) if ln.strip().startswith("-- source")), 1)
        raise QueryError(path, line, f"unknown source {header.source!r}; known: {', '.join(sorted(sources)) or 'none'}")
    compiler = _Compiler(path, text, header, source)
    try:
        return compiler.compile()
    finally:
        compiler.con.close()
