"""Benchmark of JSON decoders for the analytics engine's micro-batches (not a test; prints one JSON document).

One batch of game events (the leaderboard benchmark's events, joined by newlines as the engine's decoder joins a
partition's records) is decoded into an Arrow table by each candidate, several times; each reports wall seconds and
CPU seconds (all threads) per event, and the columns it produced:

- ``arrow_all``: Arrow's JSON reader with the source's explicit schema, every declared column (the engine before);
- ``arrow_read``: the same reader, the explicit schema narrowed to the columns the leaderboard reads;
- ``duckdb_read_json``: DuckDB's own ``read_json`` over the same buffer (handed over as a file-like object), the
  columns the leaderboard reads with their types;
- ``orjson_rows``: ``orjson.loads`` per record, then ``pa.Table.from_pylist``;
- ``msgspec_struct``: ``msgspec.json`` decoding each record into a typed Struct of the columns read (it checks types),
  then columns by hand (when msgspec is installed: it is not a kemu dependency);
- ``cysimdjson_rows``: simdjson (``cysimdjson``) per record, fields read by name, then columns by hand (when
  installed).

    .venv/bin/python bench/analytics_decode.py --events 200000 --repeat 5
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.json as pj

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics.sources import ARROW_TYPES
from bench.analytics_support import game_event

#: The game source's columns, and those the leaderboard queries read (their event time included).
ALL = {
    "event_id": "VARCHAR",
    "event_type": "VARCHAR",
    "event_time": "TIMESTAMP",
    "player_id": "VARCHAR",
    "match_id": "VARCHAR",
    "level": "BIGINT",
    "points": "BIGINT",
}
READ = ("event_time", "event_type", "player_id", "points")


def _arrow(columns: dict[str, str]) -> Callable[[bytes, list[bytes]], pa.Table]:
    schema = pa.schema([(name, ARROW_TYPES[kind]) for name, kind in columns.items()])
    parse = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    read = pj.ReadOptions(block_size=256 << 10)

    def decode(joined: bytes, lines: list[bytes]) -> pa.Table:
        return pj.read_json(io.BytesIO(joined), read_options=read, parse_options=parse)

    return decode


def _duckdb() -> Callable[[bytes, list[bytes]], pa.Table]:
    con = duckdb.connect()
    columns = {name: ALL[name] for name in READ}

    def decode(joined: bytes, lines: list[bytes]) -> pa.Table:
        relation = con.read_json(io.BytesIO(joined), format="newline_delimited", columns=columns)
        return relation.to_arrow_table()

    return decode


def _orjson(joined: bytes, lines: list[bytes]) -> pa.Table:
    return pa.Table.from_pylist([orjson.loads(line) for line in lines])


def _columns(rows: list[tuple[Any, ...]]) -> pa.Table:
    """Columns of the leaderboard's fields from per-record tuples, typed as the engine's tables."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in READ]
    # Event times stay ISO text here and are cast to timestamps in C++ (as Arrow's reader does).
    kinds = [pa.string() if ALL[name] == "TIMESTAMP" else ARROW_TYPES[ALL[name]] for name in READ]
    arrays = [pa.array(values, kind) for kind, values in zip(kinds, columns, strict=True)]
    arrays = [
        a.cast(pa.timestamp("us", "UTC")).cast(pa.timestamp("us")) if ALL[n] == "TIMESTAMP" else a
        for n, a in zip(READ, arrays, strict=True)
    ]
    return pa.Table.from_arrays(arrays, names=list(READ))


def _msgspec() -> Callable[[bytes, list[bytes]], pa.Table] | None:
    try:
        import msgspec
    except ImportError:
        return None

    class Event(msgspec.Struct):
        event_time: str | None = None
        event_type: str | None = None
        player_id: str | None = None
        points: int | None = None

    decoder = msgspec.json.Decoder(Event)

    def decode(joined: bytes, lines: list[bytes]) -> pa.Table:
        rows = []
        for line in lines:
            event = decoder.decode(line)
            rows.append((event.event_time, event.event_type, event.player_id, event.points))
        return _columns(rows)

    return decode


def _simdjson() -> Callable[[bytes, list[bytes]], pa.Table] | None:
    try:
        import cysimdjson
    except ImportError:
        return None
    parser = cysimdjson.JSONParser()

    def decode(joined: bytes, lines: list[bytes]) -> pa.Table:
        rows = []
        for line in lines:
            document = parser.parse(line)
            rows.append(tuple(document.get(name) for name in READ))
        return _columns(rows)

    return decode


def measure(decode: Callable[[bytes, list[bytes]], pa.Table], lines: list[bytes], repeat: int) -> dict[str, Any]:
    joined = b"\n".join(lines)
    table = decode(joined, lines)  # warm-up, and the shape it produces
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        decode(joined, lines)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    events = len(lines)
    return {
        "wall_us_per_event": round(statistics.median(walls) / events * 1e6, 3),
        "cpu_us_per_event": round(statistics.median(cpus) / events * 1e6, 3),
        "rows": table.num_rows,
        "columns": table.column_names,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--players", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(42)
    lines = [game_event(i, rng, args.players, 1_800_000_000_000 + i)[1] for i in range(args.events)]
    candidates: dict[str, Callable[[bytes, list[bytes]], pa.Table] | None] = {
        "arrow_all": _arrow(ALL),
        "arrow_read": _arrow({name: ALL[name] for name in READ}),
        "duckdb_read_json": _duckdb(),
        "orjson_rows": _orjson,
        "msgspec_struct": _msgspec(),
        "cysimdjson_rows": _simdjson(),
    }
    results: dict[str, Any] = {}
    for name, decode in candidates.items():
        print(f"{name}…", file=sys.stderr, flush=True)
        results[name] = measure(decode, lines, args.repeat) if decode is not None else {"skipped": "not installed"}
    report = {
        "benchmark": "analytics_decode",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg": os.getloadavg()},
        "events": args.events,
        "bytes_per_event": round(sum(map(len, lines)) / len(lines), 1),
        "repeat": args.repeat,
        "decoders": results,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
