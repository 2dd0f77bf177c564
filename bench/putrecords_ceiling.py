"""Benchmark: kemu's PutRecords against the ceiling of its own HTTP stack, side by side in one run.

    .venv/bin/python bench/putrecords_ceiling.py [--seconds 10] [--concurrency 8] [--record-bytes 200]

The ceiling is a minimal ASGI handler that does only what any PutRecords server must: read the body, parse the JSON,
base64-decode every record, route it by the MD5 of its partition key to a shard of the stream, and answer with a
sequence number and shard id per record. No Kafka, no validation, no signature check, no state. It is served by the
stack ``kemu kinesis serve`` uses (uvicorn on uvloop, with kemu's own protocol class that speaks HTTP/1.1 and h2c on
one port, :mod:`emulator.edge.protocols`), in a process of its own, as kemu is.

Both are driven by the load generator of ``bench/kinesis_throughput.py`` (the same signed PutRecords bodies over
aiohttp for HTTP/1.1, and over httpx with h2c prior knowledge for HTTP/2), one after the other in the same run, and
the JSON gives kemu's records/s as a ratio of the ceiling's (issue 21, target 3: at least 0.6), plus the server
process's CPU time per record, which depends much less on a busy machine than a rate does. kemu answers only after
Kafka acknowledged every record, as always. Kafka for kemu: ``--kafka-bootstrap``, else
``KEMU_KAFKA__BOOTSTRAP_SERVERS``, else the running ``kemu services``. Not a test: nothing asserts a speed.

``python -m bench.putrecords_ceiling serve --port N --shards S`` runs the ceiling alone.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import bisect
import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.kinesis_throughput import (  # noqa: E402
    RECORDS_PER_CALL,
    boto_client,
    create_stream,
    free_port,
    kafka_bootstrap,
    put_bodies,
    put_load,
    signed,
    start_server,
    stop_process,
)
from bench.processes import cpu_seconds  # noqa: E402
from bench.report import header, load_averages  # noqa: E402

#: Bytes of record data a PutRecords call may carry (5 MiB less room for the partition keys).
CALL_DATA_BYTES = 4 * 2**20

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def records_per_call(record_bytes: int) -> int:
    """500 records a call (the API's limit), fewer when their data would pass 4 MiB (the limit is 5 MiB)."""
    return max(1, min(RECORDS_PER_CALL, CALL_DATA_BYTES // max(1, record_bytes)))


class Router:
    """A stream's shards as hash-key ranges split evenly over [0, 2^128) as kemu splits them (the last range takes
    the remainder): the MD5 routing every server does."""

    def __init__(self, shards: int) -> None:
        self.starts = [i * (2**128 // shards) for i in range(shards)]
        self.sequences = [0] * shards

    def shard_of(self, partition_key: str) -> int:
        return bisect.bisect_right(self.starts, int.from_bytes(hashlib.md5(partition_key.encode()).digest())) - 1  # noqa: S324 - Kinesis's routing hash


def put_records_answer(body: bytes, router: Router) -> tuple[bytes, int]:
    """The PutRecords answer to ``body`` and the bytes of data it carried: parse, decode, route, answer."""
    request = orjson.loads(body)
    answers = []
    data_bytes = 0
    for record in request["Records"]:
        data_bytes += len(base64.b64decode(record["Data"], validate=True))
        shard = router.shard_of(record["PartitionKey"])
        router.sequences[shard] += 1
        answers.append(
            {"SequenceNumber": f"{shard:028d}{router.sequences[shard]:028d}", "ShardId": f"shardId-{shard:012d}"}
        )
    return orjson.dumps({"FailedRecordCount": 0, "Records": answers, "EncryptionType": "NONE"}), data_bytes


def ceiling_app(shards: int) -> Callable[[dict[str, Any], Receive, Send], Awaitable[None]]:
    """The minimal ASGI handler: PutRecords only (anything else is answered with an empty JSON object)."""
    router = Router(shards)

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        target = dict(scope["headers"]).get(b"x-amz-target", b"")
        answer = put_records_answer(b"".join(chunks), router)[0] if target.endswith(b".PutRecords") else b"{}"
        headers = [(b"content-type", b"application/x-amz-json-1.1"), (b"content-length", str(len(answer)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    return app


def serve(port: int, shards: int) -> None:
    """Serve the ceiling on 127.0.0.1:``port`` as ``kemu kinesis serve`` serves kemu (uvicorn, uvloop, its protocol)."""
    import uvicorn

    from emulator.edge.protocols import HttpProtocol

    config = uvicorn.Config(
        ceiling_app(shards), host="127.0.0.1", port=port, http=HttpProtocol, loop="uvloop", log_level="warning",
        access_log=False, lifespan="on",
    )  # fmt: skip
    uvicorn.Server(config).run()


@dataclass
class Target:
    """A server under load: where it listens and its process (for CPU time and memory)."""

    name: str
    url: str
    pid: int


@contextlib.contextmanager
def start_ceiling(shards: int, log_dir: Path) -> Iterator[Target]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    with (log_dir / "ceiling.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.putrecords_ceiling", "serve", "--port", str(port), "--shards", str(shards)],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the ceiling did not start; see {log.name}")
                time.sleep(0.1)
            yield Target("ceiling", f"http://127.0.0.1:{port}", process.pid)
        finally:
            stop_process(process)


@contextlib.contextmanager
def start_kemu(bootstrap: str, log_dir: Path) -> Iterator[Target]:
    with start_server("kemu", bootstrap, log_dir) as server:
        yield Target("kemu", server.url, server.process.pid)


async def measure(
    target: Target, stream: str, seconds: float, concurrency: int, record_bytes: int, http2: bool
) -> dict[str, Any]:
    """One PutRecords phase against ``target`` (after a short warm-up that is not counted), with the server's CPU
    microseconds per acknowledged record and its PSS at the end."""
    per_call = records_per_call(record_bytes)
    bodies = put_bodies(stream, 20, record_bytes=record_bytes, records_per_call=per_call)
    prepared = [signed(target.url, "PutRecords", body) for body in bodies]
    shape = {"records_per_call": per_call, "record_bytes": record_bytes}
    await put_load(target.url, prepared, min(1.0, seconds / 5), concurrency, http2, **shape)
    cpu_before = cpu_seconds(psutil.Process(target.pid))
    result = await put_load(target.url, prepared, seconds, concurrency, http2, **shape)
    cpu = cpu_seconds(psutil.Process(target.pid)) - cpu_before
    ok = result["records_ok"]
    result["server_cpu_us_per_record"] = round(cpu / ok * 1e6, 2) if ok else None
    result["server_pss_mib"] = round(psutil.Process(target.pid).memory_full_info().pss / 2**20, 1)
    return result


def ratio(kemu: dict[str, Any], ceiling: dict[str, Any]) -> float | None:
    """kemu's acknowledged records/s as a fraction of the ceiling's."""
    best = ceiling["records_per_s"]
    return round(kemu["records_per_s"] / best, 3) if best else None


async def compare(
    kemu: Target, ceiling: Target, stream: str, seconds: float, concurrency: int, record_bytes: int, http2: bool
) -> dict[str, Any]:
    """The ceiling, then kemu, then the ceiling again (the machine's load drifts; the ceiling is the mean of both)."""
    first = await measure(ceiling, stream, seconds / 2, concurrency, record_bytes, http2)
    ours = await measure(kemu, stream, seconds, concurrency, record_bytes, http2)
    second = await measure(ceiling, stream, seconds / 2, concurrency, record_bytes, http2)
    both = {
        "records_per_s": round((first["records_per_s"] + second["records_per_s"]) / 2),
        "server_cpu_us_per_record": _mean(first["server_cpu_us_per_record"], second["server_cpu_us_per_record"]),
        "runs": [first, second],
    }
    return {"kemu": ours, "ceiling": both, "ratio": ratio(ours, both)}


def _mean(a: float | None, b: float | None) -> float | None:
    values = [v for v in (a, b) if v is not None]
    return round(sum(values) / len(values), 2) if values else None


@contextlib.contextmanager
def servers(bootstrap: str, shards: int, log_dir: Path) -> Iterator[tuple[Target, Target, str]]:
    """kemu and the ceiling, running, and a stream of ``shards`` shards on kemu (the ceiling routes to as many)."""
    with start_kemu(bootstrap, log_dir) as kemu, start_ceiling(shards, log_dir) as ceiling:
        stream = f"bench-ceiling-{os.getpid()}-{time.monotonic_ns() % 10**6}"
        create_stream(kemu.url, stream, shards)
        try:
            yield kemu, ceiling, stream
        finally:
            # Its records are megabytes a second of the run: left on the broker, runs add up to gigabytes.
            with contextlib.suppress(Exception):
                boto_client(kemu.url).delete_stream(StreamName=stream)


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        parser = argparse.ArgumentParser(prog="putrecords_ceiling serve")
        parser.add_argument("--port", type=int, required=True)
        parser.add_argument("--shards", type=int, default=4)
        args = parser.parse_args(sys.argv[2:])
        serve(args.port, args.shards)
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of kemu's phase")
    parser.add_argument("--concurrency", type=int, default=8, help="connections (HTTP/1.1) or streams (HTTP/2)")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--record-bytes", type=int, default=200)
    parser.add_argument("--kafka-bootstrap", default=None)
    parser.add_argument("--http2", action=argparse.BooleanOptionalAction, default=True, help="also compare over h2c")
    args = parser.parse_args()
    bootstrap = kafka_bootstrap(args.kafka_bootstrap)
    load_before = os.getloadavg()
    import tempfile

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="kemu-bench-") as logs, servers(bootstrap, args.shards, Path(logs)) as s:
        kemu, ceiling, stream = s
        for name, http2 in [("http1.1", False), ("http2", True)][: 2 if args.http2 else 1]:
            results[name] = asyncio.run(
                compare(kemu, ceiling, stream, args.seconds, args.concurrency, args.record_bytes, http2)
            )
    document = {
        **header(
            "putrecords_ceiling",
            load_average_before=[round(x, 2) for x in load_before],
            load_average_after=load_averages(),
        ),
        "workload": {
            "shards": args.shards,
            "record_bytes": args.record_bytes,
            "records_per_call": records_per_call(args.record_bytes),
            "seconds": args.seconds,
            "concurrency": args.concurrency,
        },
        "results": results,
        "ratios": {name: result["ratio"] for name, result in results.items()},
    }
    print(json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
