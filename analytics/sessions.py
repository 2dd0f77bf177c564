"""SESSION windows in SQL: merging the open sessions with a batch's event windows, and finding the late events.

Both are gaps and islands over the open sessions and the batch's windows ``[t, t + gap)`` of each key, ordered by
start: a window that starts before the latest end so far joins the island (the session); a gap of ``gap`` or more
starts a new one. Only the open sessions and the batch take part, never the history: a closed session has left the
state, and an event after it starts a session of its own (which may overlap it, as in Flink).
"""

from __future__ import annotations

from analytics.columns import (
    ET,
    MISSED_WE,
    MISSED_WS,
    OFFSET,
    OPEN,
    PARTIALS,
    PARTITION,
    ROWS,
    STATE,
    WE,
    WS,
    group,
    partial,
)

#: Placeholder for the current watermark (ms); an identifier no user query can produce. The compiler's statements
#: use the same one.
WATERMARK_TOKEN = "__kemu_watermark__"  # noqa: S105 - a placeholder, not a secret


def session_merge_sql(key_count: int, merges: list[str]) -> str:
    """Merge the open sessions (``__state``) with the batch's per-event windows (``__partials``) into sessions."""
    keys = [group(i) for i in range(key_count)]
    over = f"PARTITION BY {', '.join(keys)} " if keys else ""
    order = f"{over}ORDER BY {WS}, {WE}"
    merged = "".join(f", {merge}({partial(j)}) AS {partial(j)}" for j, merge in enumerate(merges))
    key_list = "".join(f", {k}" for k in keys)
    return (
        f"WITH __u AS (SELECT * FROM {STATE} UNION ALL SELECT * FROM {PARTIALS}), "
        f"__f AS (SELECT *, CASE WHEN {WS} < max({WE}) OVER ({order} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) "
        "THEN 0 ELSE 1 END AS __new FROM __u), "
        f"__i AS (SELECT *, sum(__new) OVER ({order} ROWS UNBOUNDED PRECEDING) AS __island FROM __f) "
        f"SELECT min({WS}) AS {WS}, max({WE}) AS {WE}{key_list}{merged} FROM __i GROUP BY __island{key_list}"
    )


def session_late_sql(key_count: int, lateness_ms: int) -> str:
    """The late rows of a batch of a SESSION query, with the session each would have been part of.

    ``__rows`` holds the batch's rows (the compiled ``rows_sql``), ``__open`` the open sessions (``__ws``, ``__we``,
    keys). Each row's window ``[t, t + gap)`` is merged with the open sessions and the batch's other windows of its
    key first (gaps and islands, as :func:`session_merge_sql`), and only then judged, as Flink's merging window
    operator does: a row is late when the session it ends up in closed (end + lateness <= the watermark). One that
    falls inside, or bridges to, an open session is on time, whatever its own window."""
    keys = [group(i) for i in range(key_count)]
    over = f"PARTITION BY {', '.join(keys)} " if keys else ""
    order = f"{over}ORDER BY {WS}, {WE}"
    key_list = "".join(f", {k}" for k in keys)
    island = f"PARTITION BY {', '.join([*keys, '__island'])}"
    return (
        f"WITH __u AS (SELECT {WS}, {WE}{key_list}, CAST(NULL AS INTEGER) AS {PARTITION}, CAST(NULL AS BIGINT) AS "
        f"{OFFSET}, CAST(NULL AS BIGINT) AS {ET} FROM {OPEN} UNION ALL SELECT {WS}, {WE}{key_list}, {PARTITION}, "
        f"{OFFSET}, {ET} FROM {ROWS}), "
        f"__f AS (SELECT *, CASE WHEN {WS} < max({WE}) OVER ({order} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) "
        "THEN 0 ELSE 1 END AS __new FROM __u), "
        f"__i AS (SELECT *, sum(__new) OVER ({order} ROWS UNBOUNDED PRECEDING) AS __island FROM __f), "
        f"__s AS (SELECT *, min({WS}) OVER ({island}) AS __sws, max({WE}) OVER ({island}) AS __swe FROM __i) "
        f"SELECT {PARTITION}, {OFFSET}, min({ET}) AS {ET}, list(__sws ORDER BY __sws) AS {MISSED_WS}, "
        f"list(__swe ORDER BY __sws) AS {MISSED_WE} FROM __s "
        f"WHERE {PARTITION} IS NOT NULL AND __swe + {lateness_ms} <= {WATERMARK_TOKEN} "
        f"GROUP BY {PARTITION}, {OFFSET} ORDER BY {PARTITION}, {OFFSET}"
    )
