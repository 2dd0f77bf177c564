"""Bulk decoding of JSON records into Arrow with the source's schema (no per-row Python on the happy path).

A query's decoder converts only the source columns the query reads (:attr:`analytics.plan.CompiledQuery.decodes`):
Arrow's reader still parses every field as JSON, but converts and checks the types of those columns alone, about a
fifth less CPU per event on the leaderboard (``bench/analytics_decode.py``). So a field the query does not read is
held to what a field the source does not declare is: the record must be JSON, its value's type does not matter.

The records of a batch are joined into one newline-delimited buffer and parsed by Arrow's C++ JSON reader. Only
when that fails is the batch bisected: halves that parse are kept whole, halves that fail are split again, and
only small runs are examined record by record to route the bad ones with a reason. A few bad records in a large
batch thus cost a few bulk parses (about log2 of the batch per bad record), not one parse per record, which kept
the engine from falling behind on the demo's 0.5% malformed events.

Whether a record is good never depends on the batch it came in: the record-by-record path asks the same reader the
same question about one record that the bulk read asks about many (a record that is not an object on one line is
first read by orjson and handed over as one line), and both then apply the same checks to the values.

Arrow's reader trusts its input. It does not check that text is UTF-8, accepts ``NaN`` and ``Infinity``, parses
timestamps that Python and DuckDB cannot all represent, and crashes the process (a segmentation fault in pyarrow
26) when one of its blocks starts with a top-level ``null``. Left unchecked, each of these stopped the query for
good: the same batch is read again after every restart. So a batch reaches the reader only when its bytes are
UTF-8 and, if it holds ``null`` at all, every line of it is one object; the decoded values are checked before
they reach the query.
"""

from __future__ import annotations

import io
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from analytics.columns import OFFSET, PARTITION
from analytics.compiler import BATCH_META
from analytics.emissions import BadRecord, iso_ms, json_value
from analytics.plan import CompiledQuery
from analytics.sources import Source
from foundation.text import utf8_problem

#: Runs of at most this many records are examined record by record: below it, bisecting costs more parser set-ups
#: than it saves.
_SINGLE_RUN = 8

#: The event times every part of the engine can represent (Python's ``datetime``, which results go through, ends at
#: year 9999; Arrow's reader would read year 0), in epoch milliseconds.
EARLIEST_EVENT_MS = -62_135_596_800_000  # 0001-01-01T00:00:00.000Z
LATEST_EVENT_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z

#: How much of a bad record its error record carries, in characters.
_RAW_CHARS = 1000


@dataclass
class _Sorted:
    """What the careful path found: good tables and their offsets in record order, and the bad records."""

    tables: list[pa.Table] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    bad: list[BadRecord] = field(default_factory=list)


class Decoder:
    """Decodes raw record values of one source; ``query`` names who reports the bad records."""

    def __init__(
        self,
        source: Source,
        query: str,
        max_record_bytes: int = 131_072,
        window_ms: int = 0,
        columns: Collection[str] = (),
    ) -> None:
        """``window_ms``: the query's longest window (0 without one); an event time must leave room for its
        windows to start and end within the representable range. ``columns``: the source columns to decode (with
        the event time, always); empty decodes every one. Fields not decoded are checked as JSON, not by type."""
        self.source = source
        self.query = query
        self.max_record_bytes = max_record_bytes
        wanted = {*columns, source.event_time} if columns else set(source.column_names())
        #: The decoded columns, in the source's declaration order.
        self.columns = [name for name in source.column_names() if name in wanted]
        self.schema = source.arrow_schema(wanted)
        self.earliest_ms = EARLIEST_EVENT_MS + window_ms
        self.latest_ms = LATEST_EVENT_MS - window_ms
        self._options = pj.ParseOptions(explicit_schema=self.schema, unexpected_field_behavior="ignore")
        # Blocks of 256 KiB let Arrow parse a batch on every core; a record must fit in one block.
        self._read = pj.ReadOptions(block_size=max(256 << 10, 2 * max_record_bytes))
        self._doubles = [name for name, kind in source.columns if kind == "DOUBLE" and name in wanted]
        self._window_ms = window_ms
        #: A decoder of every declared column, made when :meth:`whole_events` first needs one.
        self._whole: Decoder | None = None

    @classmethod
    def for_query(cls, query: CompiledQuery, max_record_bytes: int = 131_072) -> Decoder:
        """The decoder of ``query``'s source, of the columns the query reads, with the event-time range its windows
        allow."""
        window_ms = query.window.size_ms if query.window is not None else 0
        return cls(query.source, query.name, max_record_bytes, window_ms, query.decodes)

    def _parse(self, lines: Sequence[bytes]) -> pa.Table:
        if not lines:
            return self.schema.empty_table()
        joined = b"\n".join(lines)
        problem = utf8_problem(joined)
        # Only a top-level null crashes the reader. (rfind: twice as fast as ``in`` on these buffers, measured.)
        if problem is None and joined.rfind(b"null") >= 0:
            problem = _not_one_object_per_line(joined, len(lines))
        if problem is not None:
            raise ValueError(problem)
        table = pj.read_json(io.BytesIO(joined), read_options=self._read, parse_options=self._options)
        if table.num_rows != len(lines):
            raise ValueError("record count changed while parsing")
        return table.select(self.columns)

    def _parse_one(self, value: bytes | None) -> pa.Table:
        """One record on its own: the bulk read's verdict on it, whatever the records around it."""
        if value is None:
            raise ValueError("no value (a Kafka record with a null value)")
        problem = utf8_problem(value)
        if problem is not None:
            raise ValueError(problem)
        line = value
        if _not_one_object_per_line(value, 1) is not None:
            # Spread over lines, or not starting with an object: JSON's own parser reads it, and an object is
            # given to Arrow's reader as one line (whose top-level ``null`` would crash it).
            try:
                document = orjson.loads(value)
                if not isinstance(document, dict):
                    raise ValueError(f"a record must be a JSON object, got {_json_type(document)}")
                line = orjson.dumps(document)
            except orjson.JSONDecodeError as exc:
                raise ValueError(f"not JSON: {exc}") from None
            except orjson.JSONEncodeError as exc:  # nested deeper than orjson writes
                raise ValueError(f"cannot be read on one line: {exc}") from None
        table = pj.read_json(io.BytesIO(line), read_options=self._read, parse_options=self._options)
        if table.num_rows != 1:
            raise ValueError(f"{table.num_rows} JSON values where one object was expected")
        return table.select(self.columns)

    def decode(
        self, partition: int, offsets: Sequence[int], values: Sequence[bytes | None]
    ) -> tuple[pa.Table, list[BadRecord]]:
        """Good records as one table (with ``__partition`` and ``__offset``), bad ones with their reasons."""
        bad: list[BadRecord] = []
        kept_offsets: Sequence[int] = offsets
        try:
            if max(map(len, values), default=0) > self.max_record_bytes:  # type: ignore[arg-type]
                raise ValueError("an oversized record")
            table = self._parse(values)  # type: ignore[arg-type]
        except (pa.ArrowInvalid, ValueError, TypeError):
            # A None value fails the join (TypeError); a record with a raw newline changes the count, and bytes
            # that are not UTF-8 fail the check before the read (ValueError).
            table, kept_offsets, bad = self._careful(partition, offsets, values)
        table, kept_offsets = self._check_values(partition, table, kept_offsets, offsets, values, bad)
        meta = dict(BATCH_META)
        rows = table.num_rows
        table = table.append_column(PARTITION, pa.repeat(pa.scalar(partition, meta[PARTITION]), rows))
        table = table.append_column(OFFSET, pa.array(kept_offsets, meta[OFFSET]))
        return table, bad

    def whole_events(self, records: Sequence[tuple[int, int, bytes | None]]) -> dict[tuple[int, int], dict[str, Any]]:
        """Every declared field of ``records`` ((partition, offset, value) each) as JSON values, by (partition,
        offset), as a decoder of every column reads them: what a late event's record shows, whichever columns the
        query reads. Empty when this decoder reads every column already; a record whose unread fields do not have
        their declared types is left out (its caller keeps the fields the query read)."""
        if len(self.columns) == len(self.source.columns) or not records:
            return {}
        if self._whole is None:
            self._whole = Decoder(self.source, self.query, self.max_record_bytes, self._window_ms)
        by_partition: dict[int, tuple[list[int], list[bytes | None]]] = {}
        for partition, offset, value in records:
            offsets, values = by_partition.setdefault(partition, ([], []))
            offsets.append(offset)
            values.append(value)
        found: dict[tuple[int, int], dict[str, Any]] = {}
        for partition, (offsets, values) in by_partition.items():
            table, _ = self._whole.decode(partition, offsets, values)
            for row in table.to_pylist():
                event = {k: json_value(v) for k, v in row.items() if not k.startswith("__")}
                found[(row[PARTITION], row[OFFSET])] = event
        return found

    def _all_usable(self, table: pa.Table) -> bool:
        """Whether every row passes :meth:`_value_problems`, told from a few aggregates (the usual case, far
        cheaper than the row masks): no null event time, the earliest and latest in range, finite sums."""
        event_time = table.column(self.source.event_time)
        if event_time.null_count:
            return False
        if table.num_rows:
            bounds = pc.min_max(pc.cast(event_time, pa.int64())).as_py()
            if bounds["min"] < self.earliest_ms * 1000 or bounds["max"] > self.latest_ms * 1000 + 999:
                return False
        # A sum is finite unless a value is NaN or infinite (or the sum overflows, which the masks then clear).
        return all(math.isfinite(pc.sum(table.column(name)).as_py() or 0.0) for name in self._doubles)

    def _value_problems(self, table: pa.Table) -> list[tuple[pa.ChunkedArray | pa.Array, str]]:
        """(row mask, reason) of each check on decoded values, in the order a row's reason is chosen."""
        event_time = table.column(self.source.event_time)
        micros = pc.cast(event_time, pa.int64())
        out_of_range = pc.or_(
            pc.less(micros, self.earliest_ms * 1000), pc.greater(micros, self.latest_ms * 1000 + 999)
        ).fill_null(False)
        checks: list[tuple[pa.ChunkedArray | pa.Array, str]] = [
            (pc.is_null(event_time), f"missing {self.source.event_time}"),
            (
                out_of_range,
                f"{self.source.event_time} out of range: event times must be from {iso_ms(self.earliest_ms)} "
                f"to {iso_ms(self.latest_ms)} (so that every window of this query starts and ends in years 1 to "
                "9999)",
            ),
        ]
        for name in self._doubles:
            # Arrow's reader takes the literals NaN and Infinity, which JSON does not have.
            not_finite = pc.invert(pc.is_finite(table.column(name))).fill_null(False)
            checks.append((not_finite, f"malformed record: {name} is NaN or Infinity, which is not a JSON number"))
        return checks

    def _check_values(
        self,
        partition: int,
        table: pa.Table,
        kept_offsets: Sequence[int],
        offsets: Sequence[int],
        values: Sequence[bytes | None],
        bad: list[BadRecord],
    ) -> tuple[pa.Table, Sequence[int]]:
        """Route the rows whose values the query cannot use (appended to ``bad``); the rest stay in order."""
        if self._all_usable(table):
            return table, kept_offsets
        checks = self._value_problems(table)
        failing = checks[0][0]
        for mask, _ in checks[1:]:
            failing = pc.or_(failing, mask)
        if not pc.any(failing).as_py():
            return table, kept_offsets
        raw_of = dict(zip(offsets, values, strict=True))
        flags = [mask.to_pylist() for mask, _ in checks]
        for row in pc.indices_nonzero(failing).to_pylist():
            reason = next(reason for (_, reason), flag in zip(checks, flags, strict=True) if flag[row])
            offset = kept_offsets[row]
            bad.append(BadRecord(self.query, partition, offset, reason, raw_text(raw_of.get(offset))))
        keep = pc.invert(failing)
        return table.filter(keep), pc.filter(pa.array(kept_offsets, pa.int64()), keep).to_pylist()

    def _careful(
        self, partition: int, offsets: Sequence[int], values: Sequence[bytes | None]
    ) -> tuple[pa.Table, list[int], list[BadRecord]]:
        found = _Sorted()
        # Oversized records are routed unread, and the runs between them sorted on their own: one record larger
        # than a block would fail every bulk parse that includes it.
        limit, start = self.max_record_bytes, 0
        for i, value in enumerate(values):
            if value is not None and len(value) > limit:
                if start < i:
                    self._bisect(partition, offsets[start:i], values[start:i], found)
                reason = f"oversized record: {len(value):,} bytes, more than max_record_bytes ({limit:,})"
                found.bad.append(BadRecord(self.query, partition, offsets[i], reason, raw_text(value)))
                start = i + 1
        if start < len(values):
            self._bisect(partition, offsets[start:], values[start:], found, known_bad=start == 0)
        if not found.tables:
            return self.schema.empty_table().select(self.columns), [], found.bad
        return pa.concat_tables(found.tables), found.offsets, found.bad

    def _bisect(
        self,
        partition: int,
        offsets: Sequence[int],
        values: Sequence[bytes | None],
        found: _Sorted,
        known_bad: bool = False,
    ) -> None:
        """Sort ``values`` into ``found``, in order: whole when they parse together, else each half on its own.

        ``known_bad``: the caller already saw them fail together, so the parse is not tried again.
        """
        if not known_bad and None not in values:
            try:
                table = self._parse(values)  # type: ignore[arg-type]
            except (pa.ArrowInvalid, ValueError):
                pass
            else:
                found.tables.append(table)
                found.offsets.extend(offsets)
                return
        if len(values) <= _SINGLE_RUN:
            self._one_by_one(partition, offsets, values, found)
            return
        half = len(values) // 2
        self._bisect(partition, offsets[:half], values[:half], found)
        self._bisect(partition, offsets[half:], values[half:], found)

    def _one_by_one(
        self, partition: int, offsets: Sequence[int], values: Sequence[bytes | None], found: _Sorted
    ) -> None:
        tables: list[pa.Table] = []
        for offset, value in zip(offsets, values, strict=True):
            try:
                tables.append(self._parse_one(value))
            except (pa.ArrowInvalid, ValueError) as exc:
                reason = f"malformed record: {_reason(value, exc)}"
                found.bad.append(BadRecord(self.query, partition, offset, reason, raw_text(value)))
                continue
            found.offsets.append(offset)
        if tables:
            found.tables.append(pa.concat_tables(tables))


def raw_text(value: bytes | None) -> str:
    """The start of a record as text for its error record (bytes that are not UTF-8 replaced)."""
    return (value or b"")[:_RAW_CHARS].decode("utf-8", "replace")


def _not_one_object_per_line(joined: bytes, records: int) -> str | None:
    """Why ``joined`` (``records`` records joined by newlines) is not one object per line, or None when it is.

    Arrow's reader starts a block at any line (a raw CR ends a line too), and a top-level ``null`` at the start of
    a block crashes it: when every line starts with ``{``, none can."""
    if joined.count(b"\n") != records - 1 or b"\r" in joined:
        return "a record spread over several lines"
    if not joined.startswith(b"{") or joined.count(b"\n{") != records - 1:
        return "a record that does not start with '{'"
    return None


def _json_type(document: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if document is None else names.get(type(document), type(document).__name__)


def _reason(value: bytes | None, exc: Exception) -> str:
    """Why a record the reader refused is bad, in words: JSON's own complaint when it has one, else the reader's."""
    if value is not None and utf8_problem(value) is None:
        try:
            document: Any = orjson.loads(value)
        except orjson.JSONDecodeError as json_exc:
            return f"not JSON: {json_exc}"
        if not isinstance(document, dict):
            return f"a record must be a JSON object, got {_json_type(document)}"
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return message.removeprefix("JSON parse error: ").removesuffix(" in row 0").rstrip(".")
