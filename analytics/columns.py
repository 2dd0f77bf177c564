"""The names of the engine's own columns and tables in the SQL it generates and the Arrow tables it passes around.

The compiler writes statements over these names (:mod:`analytics.compiler`, :mod:`analytics.windows`,
:mod:`analytics.sessions`), the operators register tables under them and read their columns
(:mod:`analytics.operator`, the scale-out stages), and the decoder adds the batch columns: one definition for all.
They start with two underscores, which the engine reserves: a source's columns are the user's names. Names local to
one statement (its CTEs and helper columns) are written in that statement.
"""

from __future__ import annotations

# -- columns ---------------------------------------------------------------------------------------------------------
#: The source partition and offset of a record, added to every decoded batch so late and bad records can be traced.
PARTITION = "__partition"
OFFSET = "__offset"
#: A record's event time, in integer epoch milliseconds (floored).
ET = "__et"
#: A window's start and end, in epoch milliseconds (``window_start``/``window_end`` are the query's TIMESTAMPs).
WS = "__ws"
WE = "__we"
#: HOP by panes: the start of an event's pane, and the batch's watermark beside a pane's partials.
PANE = "__pane"
WM = "__wm"
#: A late record's missed windows (lists of starts and ends).
MISSED_WS = "__missed_ws"
MISSED_WE = "__missed_we"
#: The grouping keys of a windowed query's state are ``__g0``, ``__g1``…, its partial aggregates ``__p0``, ``__p1``….
GROUP_PREFIX = "__g"
PARTIAL_PREFIX = "__p"


def group(index: int | str) -> str:
    """The state's column of the query's ``index``-th GROUP BY key (a string index: an expression in SQL text)."""
    return f"{GROUP_PREFIX}{index}"


def partial(index: int | str) -> str:
    """The state's column of the ``index``-th partial aggregate."""
    return f"{PARTIAL_PREFIX}{index}"


# -- tables the operators register for the compiled statements ----------------------------------------------------
#: A decoded micro-batch (source columns plus PARTITION and OFFSET); ``events`` is the same without them.
BATCH = "__batch"
#: The open windows' merged partials, and a batch's partials to merge into them.
STATE = "__state"
PARTIALS = "__partials"
#: The windows (WS, WE) whose results are wanted.
SEL = "__sel"
#: A SESSION batch's late rows (PARTITION, OFFSET), which its partial step leaves out.
LATE = "__late"
#: A batch's (row, window) pairs the query counts; the open sessions; the windows a SESSION batch touched.
ROWS = "__rows"
OPEN = "__open"
TOUCHED = "__touched"
#: HOP by panes: a batch's per-pane partials with the watermark.
PANES = "__panes"
