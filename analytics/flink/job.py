"""A self-contained Flink SQL job for one kemu query: source table, the translated query, sinks in kemu's contract.

The job reads the query's source topic with Flink's Kafka connector (JSON format, the event time as the rowtime,
the source's watermark) and writes the same records kemu's engine writes, so the API and the live page read either:

* ``results``: one record per window, key ``query|window_start`` (``|window_end`` too for sessions), value
  ``{"query", "window_start", "window_end", "final", "watermark", "emitted_at", "rows"}``. Flink's window
  aggregations emit a window once, when it closes, so every record is final. The rows of a window are gathered by
  a second tumbling window over the first's ``window_time`` (one per window end), so each window is one record;
* ``alerts``: one record per row, ``alert_id`` the first 32 hex digits of SHA-256(``query|window_start[|key]``);
* ``topic``: one record per row, keyed by its ``key`` (else ``event_id``) column;
* ``errors``: events whose event time is missing or not an ISO-8601 instant, with their partition and offset.

Lateness: Flink's window table functions have no allowed lateness, so the job delays the watermark by it instead
(``out_of_orderness + lateness``): a window then closes when kemu's watermark would reach ``window_end +
lateness``, and an event counts unless kemu would have found it late. The idle timeout is
``table.exec.source.idle-timeout``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from analytics.config import OutputTopics
from analytics.flink.dialect import interval_literal
from analytics.flink.translate import Column, Translated, translate
from analytics.plan import CompiledQuery

#: Flink's java.time pattern of kemu's instants: ``2026-11-27T08:00:00.123Z`` (the job runs in UTC).
ISO_PATTERN = "yyyy-MM-dd''T''HH:mm:ss.SSS''Z''"
#: Source column types as Flink types. Instants arrive as ISO-8601 text with a ``Z``: TIMESTAMP_LTZ parses those.
_FLINK_TYPES = {
    "VARCHAR": "STRING",
    "BIGINT": "BIGINT",
    "INTEGER": "BIGINT",
    "DOUBLE": "DOUBLE",
    "BOOLEAN": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMP_LTZ(3)",
}


@dataclass(frozen=True)
class JobOptions:
    """Where the job reads and writes, and how it starts."""

    bootstrap: str
    topics: OutputTopics
    start_from: Literal["earliest", "latest"] = "earliest"
    #: Read the source up to its end offsets at start, then stop: every window closes at the end (a replay on
    #: Flink). Otherwise the job runs until it is cancelled.
    bounded: bool = False
    #: The consumer group the Kafka source commits its offsets to (on Flink's checkpoints).
    group_prefix: str = "kemu-flink-"
    checkpoint_interval_s: float = 10.0
    parallelism: int = 1


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _iso(column: str) -> str:
    return f"DATE_FORMAT({column}, '{ISO_PATTERN}')"


def _json_value(column: Column) -> str:
    """A result column as a JSON value the way kemu writes it: instants as ISO text, everything else as is."""
    return _iso(column.ref) if column.is_timestamp else column.ref


def _kafka_options(options: JobOptions, topic: str, extra: dict[str, str]) -> str:
    settings = {
        "connector": "kafka",
        "topic": topic,
        "properties.bootstrap.servers": options.bootstrap,
        **extra,
    }
    return ",\n  ".join(f"{_quote(k)} = {_quote(v)}" for k, v in settings.items())


def _sink_table(name: str, topic: str, options: JobOptions) -> str:
    """A sink of (key, value) text records: raw UTF-8 bytes, as kemu's engine writes them."""
    settings = {
        "key.format": "raw",
        "key.fields": "k",
        "value.format": "raw",
        "value.fields-include": "EXCEPT_KEY",
        "sink.delivery-guarantee": "at-least-once",
    }
    return (
        f"CREATE TABLE `{name}` (\n  `k` STRING,\n  `v` STRING\n) WITH (\n  "
        f"{_kafka_options(options, topic, settings)}\n);"
    )


def _source_table(query: CompiledQuery, options: JobOptions) -> str:
    source = query.source
    columns = [f"  `{name}` {_FLINK_TYPES[kind]}" for name, kind in source.columns]
    columns += [
        "  `__partition` INT METADATA FROM 'partition' VIRTUAL",
        "  `__offset` BIGINT METADATA FROM 'offset' VIRTUAL",
    ]
    delay = query.out_of_orderness_ms + query.lateness_ms
    columns.append(f"  WATERMARK FOR `{source.event_time}` AS `{source.event_time}` - {interval_literal(delay)}")
    settings = {
        "properties.group.id": f"{options.group_prefix}{query.name}",
        "properties.isolation.level": "read_committed",
        "scan.startup.mode": "earliest-offset" if options.start_from == "earliest" else "latest-offset",
        "format": "json",
        "json.timestamp-format.standard": "ISO-8601",
        # A record that is not a JSON object is skipped (Flink has no error output for its formats); one whose
        # fields do not fit reads them as NULL, and one without a usable event time goes to the errors topic.
        "json.ignore-parse-errors": "true",
        "json.fail-on-missing-field": "false",
    }
    if options.bounded:
        settings["scan.bounded.mode"] = "latest-offset"
    body = ",\n".join(columns)
    return f"CREATE TABLE `events` (\n{body}\n) WITH (\n  {_kafka_options(options, source.topic, settings)}\n);"


def _row_object(columns: tuple[Column, ...]) -> str:
    return "JSON_OBJECT(" + ", ".join(f"{_quote(c.name)} VALUE {_json_value(c)}" for c in columns) + ")"


def _results_insert(query: CompiledQuery, translated: Translated, table: str) -> str:
    window = query.window
    assert window is not None  # noqa: S101 - only windowed queries are translated
    lateness = interval_literal(query.lateness_ms)
    key = f"{_quote(query.name + '|')} || {_iso('`__ws`')}"
    if window.kind == "session":
        key += f" || '|' || {_iso('`__we`')}"
    # One tumbling window per end of the query's windows gathers each window's rows into one record.
    gather = interval_literal(window.size_ms if window.kind in ("tumble", "session") else window.slide_ms)
    value = (
        f"JSON_OBJECT('query' VALUE {_quote(query.name)}, 'window_start' VALUE {_iso('`__ws`')}, "
        f"'window_end' VALUE {_iso('`__we`')}, 'final' VALUE TRUE, "
        f"'watermark' VALUE {_iso(f'`__we` + {lateness}')}, "
        f"'emitted_at' VALUE {_iso('CAST(CURRENT_TIMESTAMP AS TIMESTAMP(3))')}, "
        f"'rows' VALUE JSON(JSON_ARRAYAGG({_row_object(translated.columns)})))"
    )
    return (
        f"INSERT INTO `{table}`\nSELECT {key} AS `k`, {value} AS `v`\n"
        f"FROM TABLE(TUMBLE(TABLE `__rows`, DESCRIPTOR(`__wt`), {gather}))\n"
        "GROUP BY `window_start`, `window_end`, `__ws`, `__we`;"
    )


def _alerts_insert(query: CompiledQuery, translated: Translated, table: str) -> str:
    names = {c.name: c.ref for c in translated.columns}
    key = f"CAST({names['key']} AS STRING)" if "key" in names else "CAST(NULL AS STRING)"
    identity = f"{_quote(query.name + '|')} || {_iso('`__ws`')} || COALESCE('|' || {key}, '')"
    alert_id = f"SUBSTRING(SHA256({identity}) FROM 1 FOR 32)"
    evidence = [c for c in translated.columns if c.name not in ("severity", "message")]
    fired = f"{_quote(query.name + ' fired')} || COALESCE(' for ' || {key}, '')"
    severity = f"COALESCE(CAST({names['severity']} AS STRING), 'warning')" if "severity" in names else "'warning'"
    message = f"COALESCE(CAST({names['message']} AS STRING), {fired})" if "message" in names else fired
    value = (
        f"JSON_OBJECT('alert_id' VALUE {alert_id}, 'query' VALUE {_quote(query.name)}, 'key' VALUE {key}, "
        f"'window_start' VALUE {_iso('`__ws`')}, 'window_end' VALUE {_iso('`__we`')}, "
        f"'emitted_at' VALUE {_iso('CAST(CURRENT_TIMESTAMP AS TIMESTAMP(3))')}, 'severity' VALUE {severity}, "
        f"'message' VALUE {message}, 'evidence' VALUE {_row_object(tuple(evidence))})"
    )
    return f"INSERT INTO `{table}`\nSELECT {alert_id} AS `k`, {value} AS `v`\nFROM `__rows`;"


def _rows_insert(translated: Translated, table: str) -> str:
    names = {c.name: c.ref for c in translated.columns}
    keyed = names.get("key", names.get("event_id"))
    key = f"CAST({keyed} AS STRING)" if keyed else "CAST(NULL AS STRING)"
    return f"INSERT INTO `{table}`\nSELECT {key} AS `k`, {_row_object(translated.columns)} AS `v`\nFROM `__rows`;"


def _errors_insert(query: CompiledQuery, table: str) -> str:
    et = f"`{query.source.event_time}`"
    value = (
        f"JSON_OBJECT('query' VALUE {_quote(query.name)}, 'partition' VALUE `__partition`, 'offset' VALUE `__offset`, "
        f"'reason' VALUE {_quote('missing or malformed ' + query.source.event_time + ' (an ISO-8601 instant)')}, "
        "'record' VALUE CAST(NULL AS STRING))"
    )
    key = f"{_quote(query.name + '|')} || CAST(`__partition` AS STRING) || '|' || CAST(`__offset` AS STRING)"
    return f"INSERT INTO `{table}`\nSELECT {key} AS `k`, {value} AS `v`\nFROM `events` WHERE {et} IS NULL;"


def flink_job(query: CompiledQuery, options: JobOptions) -> str:
    """The Flink SQL job of ``query``: ``SET`` options, tables, views and one statement set, runnable as it is by
    Flink's SQL client (with the Kafka SQL connector on its class path) or by ``kemu analytics run --engine flink``.
    Raises :class:`~analytics.exceptions.QueryError` for a query with no translation."""
    translated = translate(query)
    topics = options.topics
    header = query.header
    sinks = [("kemu_errors", topics.errors)]
    if header.output == "alerts":
        sinks.append(("kemu_alerts", topics.alerts))
        insert = _alerts_insert(query, translated, "kemu_alerts")
    elif header.output == "topic" and header.output_topic:
        sinks.append(("kemu_rows", header.output_topic))
        insert = _rows_insert(translated, "kemu_rows")
    else:
        sinks.append(("kemu_results", topics.results))
        insert = _results_insert(query, translated, "kemu_results")
    lines = [
        f"-- kemu query {query.name} ({query.path.name}) as a Flink SQL job; written by kemu analytics export.",
        "-- Needs the Kafka SQL connector (org.apache.flink:flink-sql-connector-kafka) on Flink's class path.",
        "SET 'table.local-time-zone' = 'UTC';",
        f"SET 'pipeline.name' = {_quote('kemu-' + query.name)};",
        f"SET 'table.exec.source.idle-timeout' = '{query.idle_timeout_ms} ms';",
        f"SET 'execution.checkpointing.interval' = '{round(options.checkpoint_interval_s * 1000)} ms';",
        f"SET 'parallelism.default' = '{options.parallelism}';",
        "",
        _source_table(query, options),
        "",
        *[_sink_table(name, topic, options) + "\n" for name, topic in sinks],
        f"CREATE TEMPORARY VIEW `__input` AS\n{translated.input_sql};",
        "",
        f"CREATE TEMPORARY VIEW `__rows` AS\n{translated.rows_sql};",
        "",
        "EXECUTE STATEMENT SET BEGIN",
        insert,
        _errors_insert(query, "kemu_errors"),
        "END;",
        "",
    ]
    return "\n".join(lines)
