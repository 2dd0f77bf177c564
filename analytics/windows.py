"""Window assignment: which windows an event time falls in, as pure functions and as the equivalent SQL.

All times are integer epoch milliseconds. Windows are half-open ``[start, end)``, aligned to the epoch as in
Flink: TUMBLE(size), HOP(slide, size) and CUMULATE(step, size). SESSION(gap) gives each event the window
``[t, t + gap)``; the operator merges overlapping ones per key into sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from analytics.columns import ET, WE, WS

WindowKind = Literal["tumble", "hop", "cumulate", "session"]


@dataclass(frozen=True)
class WindowSpec:
    """A window table function's parameters, in milliseconds. ``slide_ms`` is HOP's slide or CUMULATE's step."""

    kind: WindowKind
    time_column: str
    size_ms: int
    slide_ms: int

    def __post_init__(self) -> None:
        if self.size_ms <= 0 or self.slide_ms <= 0:
            raise ValueError("window sizes must be positive")
        if self.kind == "cumulate" and self.size_ms % self.slide_ms:
            raise ValueError("CUMULATE needs a max size that is a multiple of its step")
        if self.kind == "hop" and self.slide_ms > self.size_ms:
            raise ValueError("HOP needs a slide no longer than its size")


def windows_of(spec: WindowSpec, t: int) -> list[tuple[int, int]]:
    """Every ``(start, end)`` window containing event time ``t``, earliest start first."""
    if spec.kind == "tumble":
        start = t - t % spec.size_ms
        return [(start, start + spec.size_ms)]
    if spec.kind == "session":
        return [(t, t + spec.size_ms)]
    if spec.kind == "hop":
        last = t - t % spec.slide_ms
        count = -(-spec.size_ms // spec.slide_ms)
        starts = range(last - (count - 1) * spec.slide_ms, last + 1, spec.slide_ms)
        return [(s, s + spec.size_ms) for s in starts if s + spec.size_ms > t]
    base = t - t % spec.size_ms
    first_end = base + (t - base) // spec.slide_ms * spec.slide_ms + spec.slide_ms
    return [(base, end) for end in range(first_end, base + spec.size_ms + 1, spec.slide_ms)]


def floor_mod(value: str, modulus: int) -> str:
    """SQL for ``value`` modulo ``modulus`` rounded towards minus infinity, so that negative times align too
    (DuckDB's % keeps the sign of the dividend)."""
    return f"((({value}) % {modulus}) + {modulus}) % {modulus}"


def timed_sql(column: str, relation: str) -> str:
    """SQL adding ``__et`` (epoch ms of ``column``) to the rows of ``relation`` that have an event time.

    A time is floored to its millisecond, as :func:`analytics.operator.event_time_ms` does for watermarks: DuckDB's
    ``epoch_ms`` rounds, which put 08:00:59.9996 in the window of 08:01 while the watermark saw 08:00:59.999."""
    quoted = column.replace('"', '""')
    micros = f'SELECT *, epoch_us(CAST("{quoted}" AS TIMESTAMP)) AS __us FROM {relation} WHERE "{quoted}" IS NOT NULL'
    return f"SELECT * EXCLUDE (__us), (__us - {floor_mod('__us', 1000)}) // 1000 AS {ET} FROM ({micros})"


def windowed_sql(spec: WindowSpec, relation: str) -> str:
    """SQL adding ``__et``, ``__ws``, ``__we`` (ms) and ``window_start``/``window_end`` (TIMESTAMP) to each row of
    ``relation``, one output row per (row, window) pair; rows without an event time have no window."""
    timed = timed_sql(spec.time_column, relation)
    size, slide = spec.size_ms, spec.slide_ms
    if spec.kind == "session":
        assigned = f"SELECT *, {ET} AS {WS}, {ET} + {size} AS {WE} FROM ({timed})"
    elif spec.kind == "tumble":
        start = f"{ET} - {floor_mod(ET, size)}"
        assigned = f"SELECT *, {start} AS {WS}, {start} + {size} AS {WE} FROM ({timed})"
    elif spec.kind == "hop":
        count = -(-size // slide)
        starts = f"generate_series(__last - {(count - 1) * slide}, __last, {slide})"
        assigned = (
            f"SELECT * EXCLUDE (__last), {WS} + {size} AS {WE} FROM ("
            f"SELECT *, unnest({starts}) AS {WS} FROM "
            f"(SELECT *, {ET} - {floor_mod(ET, slide)} AS __last FROM ({timed}))"
            f") WHERE {WS} + {size} > {ET}"
        )
    else:
        ends = f"generate_series({WS} + ({ET} - {WS}) // {slide} * {slide} + {slide}, {WS} + {size}, {slide})"
        assigned = (
            f"SELECT *, unnest({ends}) AS {WE} FROM (SELECT *, {ET} - {floor_mod(ET, size)} AS {WS} FROM ({timed}))"
        )
    return f"SELECT *, epoch_ms({WS}) AS window_start, epoch_ms({WE}) AS window_end FROM ({assigned})"
