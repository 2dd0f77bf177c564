"""PutRecords and GetRecords throughput: kemu's Kinesis API against kinesalite and kinesis-mock, side by side.

    .venv/bin/python bench/kinesis_throughput.py [--seconds 10] [--concurrency 8] \
        [--servers kemu,kinesalite,kinesis-mock]

Every server runs in its own process; this process only generates load. The workload is the same for all:
a stream of ``--shards`` shards; PutRecords calls of 500 records of about 200 bytes, signed in advance with
botocore's SigV4 signer and sent by ``--concurrency`` concurrent aiohttp connections for ``--seconds``; then
each shard read from TRIM_HORIZON with GetRecords (Limit 10,000) until caught up, one reader per shard; then a
plain single-threaded boto3 loop for reference. kemu's PutRecords phase runs a second time over HTTP/2 (h2c with prior
knowledge, ``--concurrency`` streams multiplexed on one connection, as the AWS SDKs for JavaScript and Java do) with
httpx and hyper-h2, a Python client slower per call than aiohttp: on a small machine that figure is partly the
client's. The peers speak HTTP/1.1 only. Only records acknowledged without a per-record error count.
kemu answers PutRecords only after the Kafka broker acknowledged every record (acks=all); the two peers keep
their data in memory. The peers are installed with npm into ``~/.cache/kemu/bench-peers`` on first use.

Kafka for kemu: ``--kafka-bootstrap``, else ``KEMU_KAFKA__BOOTSTRAP_SERVERS``, else the running ``kemu services``.
Prints one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import boto3
import httpx
import orjson
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import header

REGION = "us-east-1"
CREDENTIALS = Credentials("AKIDBENCH", "bench-secret")
PEERS_DIR = Path.home() / ".cache" / "kemu" / "bench-peers"
RECORDS_PER_CALL = 500
RECORD_BYTES = 200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    durable: bool


def kafka_bootstrap(explicit: str | None) -> str:
    if explicit:
        return explicit
    if os.environ.get("KEMU_KAFKA__BOOTSTRAP_SERVERS"):
        return os.environ["KEMU_KAFKA__BOOTSTRAP_SERVERS"]
    from emulator.services import LocalServices
    from emulator.settings import Settings

    settings = Settings.load()
    state = LocalServices(settings.services, bucket=settings.s3.bucket).running_state()
    if state is None:
        sys.exit("no Kafka: pass --kafka-bootstrap, set KEMU_KAFKA__BOOTSTRAP_SERVERS or run `kemu services up`")
    return state.kafka.bootstrap_servers


def ensure_peers() -> Path:
    modules = PEERS_DIR / "node_modules"
    if not (modules / "kinesalite" / "cli.js").exists() or not (modules / "kinesis-local" / "main.js").exists():
        npm = shutil.which("npm")
        if npm is None:
            sys.exit("npm is needed to install kinesalite and kinesis-local; or pass --servers kemu")
        PEERS_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--silent", "--prefix", str(PEERS_DIR), "kinesalite@3", "kinesis-local@0.6"], check=True
        )
    return modules


@contextlib.contextmanager
def start_server(name: str, bootstrap: str | None, log_dir: Path) -> Iterator[Server]:
    port = free_port()
    log = (log_dir / f"{name}.log").open("wb")
    env = dict(os.environ)
    cwd: Path | None = None
    if name == "kemu":
        assert bootstrap is not None
        env["KEMU_KAFKA__BOOTSTRAP_SERVERS"] = bootstrap
        env["KEMU_LOG_LEVEL"] = "WARNING"
        command = [str(Path(sys.executable).with_name("kemu")), "kinesis", "serve", "--port", str(port)]
    elif name == "kinesalite":
        node = shutil.which("node") or "node"
        cli = ensure_peers() / "kinesalite" / "cli.js"
        command = [node, str(cli), "--port", str(port), "--createStreamMs", "0", "--shardLimit", "100"]
    elif name == "kinesis-mock":
        node = shutil.which("node") or "node"
        main = ensure_peers() / "kinesis-local" / "main.js"
        command = [node, str(main)]
        cwd = main.parent  # it reads its server.json from the working directory
        env.update(
            KINESIS_MOCK_PLAIN_PORT=str(port),
            KINESIS_MOCK_TLS_PORT=str(free_port()),
            CREATE_STREAM_DURATION="0ms",
            SHARD_LIMIT="100",
            LOG_LEVEL="WARN",
        )
    else:
        raise ValueError(name)
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    server = Server(name, f"http://127.0.0.1:{port}", process, durable=name == "kemu")
    try:
        client = boto_client(server.url)
        deadline = time.monotonic() + 60
        while True:
            try:
                client.list_streams()
                break
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start; see {log.name}") from None
                time.sleep(0.2)
        yield server
    finally:
        stop_process(process)
        log.close()


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate a server; kill it if it has not exited 15 s later."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def boto_client(url: str) -> Any:
    return boto3.client(
        "kinesis",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS.access_key,
        aws_secret_access_key=CREDENTIALS.secret_key,
        config=Config(retries={"max_attempts": 1}),
    )


def create_stream(url: str, name: str, shards: int) -> None:
    client = boto_client(url)
    client.create_stream(StreamName=name, ShardCount=shards)
    deadline = time.monotonic() + 60
    while client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise RuntimeError(f"stream {name} did not become ACTIVE at {url}")
        time.sleep(0.05)


def signed(url: str, target: str, body: bytes) -> tuple[bytes, dict[str, str]]:
    request = AWSRequest(
        method="POST",
        url=url + "/",
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"Kinesis_20131202.{target}"},
    )
    SigV4Auth(CREDENTIALS, "kinesis", REGION).add_auth(request)
    return body, dict(request.headers.items())


def put_bodies(
    stream: str, calls: int, *, record_bytes: int = RECORD_BYTES, records_per_call: int = RECORDS_PER_CALL
) -> list[bytes]:
    """Distinct PutRecords bodies: ``records_per_call`` records of ``record_bytes`` of JSON event (at least the
    event's own ~50 bytes), random partition keys."""
    import base64

    bodies = []
    for call in range(calls):
        records = []
        for i in range(records_per_call):
            event = orjson.dumps({"event_id": f"{call}-{i}", "event_type": "reading", "pad": ""})
            event = event[:-2] + b"x" * (record_bytes - len(event)) + b'"}'
            records.append({"Data": base64.b64encode(event).decode(), "PartitionKey": uuid.uuid4().hex})
        bodies.append(orjson.dumps({"StreamName": stream, "Records": records}))
    return bodies


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


#: How long an HTTP/2 call may wait for its response before it counts as a client stall.
H2_READ_TIMEOUT_S = 15.0
CLIENT_STALL = "client stalled"

Post = Callable[[bytes, dict[str, str]], Awaitable[tuple[int, bytes, str]]]


@contextlib.asynccontextmanager
async def poster(url: str, http2: bool, concurrency: int) -> AsyncIterator[Post]:
    """POST to ``url`` over aiohttp (HTTP/1.1, ``concurrency`` connections) or httpx (h2c with prior knowledge:
    ``concurrency`` streams multiplexed on one connection, as the AWS SDKs for JavaScript and Java do)."""
    if http2:
        # httpcore can stall one of several concurrent uploads larger than the flow-control window until its read
        # timeout (pydantic/httpx2#1133, a client-side wait for a WINDOW_UPDATE already received; h2load's C client
        # sent 12,000 such calls to kemu without one). A stalled call is counted as a client stall, not a crash.
        timeout = httpx.Timeout(120, read=H2_READ_TIMEOUT_S)
        async with httpx.AsyncClient(http1=False, http2=True, timeout=timeout) as client:

            async def post_h2(body: bytes, headers: dict[str, str]) -> tuple[int, bytes, str]:
                try:
                    response = await client.post(url, content=body, headers=headers)
                except httpx.ReadTimeout:
                    return 0, b"", CLIENT_STALL
                return response.status_code, response.content, response.http_version

            yield post_h2
        return
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as session:

        async def post_h1(body: bytes, headers: dict[str, str]) -> tuple[int, bytes, str]:
            async with session.post(url, data=body, headers=headers) as response:
                return response.status, await response.read(), "HTTP/1.1"

        yield post_h1


async def put_load(
    url: str,
    prepared: list[tuple[bytes, dict[str, str]]],
    seconds: float,
    concurrency: int,
    http2: bool = False,
    *,
    records_per_call: int = RECORDS_PER_CALL,
    record_bytes: int = RECORD_BYTES,
) -> dict[str, Any]:
    ok_records = failed_records = errors = stalls = 0
    latencies: list[float] = []
    versions: set[str] = set()
    stop_at = time.monotonic() + seconds
    counter = 0

    async def worker(post: Post) -> None:
        nonlocal ok_records, failed_records, errors, stalls, counter
        while time.monotonic() < stop_at:
            body, headers = prepared[counter % len(prepared)]
            counter += 1
            started = time.perf_counter()
            status, payload, version = await post(body, headers)
            latencies.append(time.perf_counter() - started)
            if status == 0:
                stalls += 1
                continue
            versions.add(version)
            if status != 200:
                errors += 1
                continue
            failed = orjson.loads(payload).get("FailedRecordCount", 0) if b'"FailedRecordCount":0' not in payload else 0
            failed_records += failed
            ok_records += records_per_call - failed

    async with poster(url + "/", http2, concurrency) as post:
        started = time.monotonic()
        await asyncio.gather(*(worker(post) for _ in range(concurrency)))
        elapsed = time.monotonic() - started
    return {
        "records_per_s": round(ok_records / elapsed),
        "mib_per_s": round(ok_records * record_bytes / elapsed / 2**20, 2),
        "calls": len(latencies),
        "records_ok": ok_records,
        "records_failed": failed_records,
        "http_errors": errors,
        "client_stalls": stalls,
        "http_versions": sorted(versions),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "seconds": round(elapsed, 2),
    }


async def get_load(url: str, stream: str, shards: int, seconds: float) -> dict[str, Any]:
    total = 0
    calls = 0
    stop_at = time.monotonic() + seconds

    async def call(session: aiohttp.ClientSession, target: str, payload: dict[str, Any]) -> dict[str, Any]:
        body, headers = signed(url, target, orjson.dumps(payload))
        async with session.post(url + "/", data=body, headers=headers) as response:
            content = await response.read()
            if response.status != 200:
                raise RuntimeError(f"{target} answered {response.status}: {content[:200]!r}")
            return dict(orjson.loads(content))

    async def reader(session: aiohttp.ClientSession, shard: int) -> None:
        nonlocal total, calls
        shard_id = f"shardId-{shard:012d}"
        iterator = (
            await call(
                session,
                "GetShardIterator",
                {"StreamName": stream, "ShardId": shard_id, "ShardIteratorType": "TRIM_HORIZON"},
            )
        )["ShardIterator"]
        while time.monotonic() < stop_at:
            response = await call(session, "GetRecords", {"ShardIterator": iterator, "Limit": 10_000})
            calls += 1
            total += len(response["Records"])
            iterator = response["NextShardIterator"]
            if not response["Records"] and response.get("MillisBehindLatest", 0) == 0:
                return

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        started = time.monotonic()
        await asyncio.gather(*(reader(session, shard) for shard in range(shards)))
        elapsed = time.monotonic() - started
    return {"records_per_s": round(total / elapsed), "records": total, "calls": calls, "seconds": round(elapsed, 2)}


def boto3_reference(url: str, stream: str, seconds: float) -> dict[str, Any]:
    client = boto_client(url)
    records = [{"Data": b"x" * RECORD_BYTES, "PartitionKey": uuid.uuid4().hex} for _ in range(RECORDS_PER_CALL)]
    ok = calls = 0
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        response = client.put_records(StreamName=stream, Records=records)
        ok += RECORDS_PER_CALL - response["FailedRecordCount"]
        calls += 1
    elapsed = time.monotonic() - started
    return {"records_per_s": round(ok / elapsed), "calls": calls, "seconds": round(elapsed, 2)}


def run_server(name: str, args: argparse.Namespace, bootstrap: str | None, log_dir: Path) -> dict[str, Any]:
    with start_server(name, bootstrap, log_dir) as server:
        stream = f"bench-{uuid.uuid4().hex[:8]}"
        create_stream(server.url, stream, args.shards)
        prepared = [signed(server.url, "PutRecords", body) for body in put_bodies(stream, args.distinct_calls)]
        # A short warm-up (connections, JIT of the node peers, Kafka metadata), not counted.
        asyncio.run(put_load(server.url, prepared, min(1.0, args.seconds / 5), args.concurrency))
        put = asyncio.run(put_load(server.url, prepared, args.seconds, args.concurrency))
        put_http2 = None
        if name == "kemu" and args.http2:
            asyncio.run(put_load(server.url, prepared, min(1.0, args.seconds / 5), args.concurrency, http2=True))
            put_http2 = asyncio.run(put_load(server.url, prepared, args.seconds, args.concurrency, http2=True))
        get = asyncio.run(get_load(server.url, stream, args.shards, args.seconds * 3))
        reference = boto3_reference(server.url, stream, args.boto3_seconds)
        with contextlib.suppress(Exception):
            boto_client(server.url).delete_stream(StreamName=stream)
        result = {"durable": server.durable, "put_records": put, "get_records": get, "boto3_put_records": reference}
        if put_http2 is not None:
            result["put_records_http2"] = put_http2
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", default="kemu,kinesalite,kinesis-mock")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the PutRecords phase per server")
    parser.add_argument("--boto3-seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--distinct-calls", type=int, default=40, help="distinct prepared PutRecords bodies")
    parser.add_argument("--kafka-bootstrap", default=None)
    parser.add_argument(
        "--http2", action=argparse.BooleanOptionalAction, default=True, help="also run kemu's PutRecords over h2c"
    )
    args = parser.parse_args()
    servers = [name.strip() for name in args.servers.split(",") if name.strip()]
    bootstrap = kafka_bootstrap(args.kafka_bootstrap) if "kemu" in servers else None
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="kemu-bench-") as logs:
        for name in servers:
            results[name] = run_server(name, args, bootstrap, Path(logs))
    peers = [name for name in results if name != "kemu"]
    ratios: dict[str, float | None] = {}
    if "kemu" in results and peers:
        for phase in ("put_records", "get_records"):
            best = max(results[name][phase]["records_per_s"] for name in peers)
            ratios[f"{phase}_vs_fastest_peer"] = (
                round(results["kemu"][phase]["records_per_s"] / best, 2) if best else None
            )
        if "put_records_http2" in results["kemu"]:
            best = max(results[name]["put_records"]["records_per_s"] for name in peers)
            ratios["put_records_http2_vs_fastest_peer_http1"] = (
                round(results["kemu"]["put_records_http2"]["records_per_s"] / best, 2) if best else None
            )
    document = {
        **header("kinesis_throughput", load_avg_1m=round(os.getloadavg()[0], 2)),
        "workload": {
            "shards": args.shards,
            "records_per_call": RECORDS_PER_CALL,
            "record_bytes": RECORD_BYTES,
            "put_seconds": args.seconds,
            "concurrency": args.concurrency,
            "distinct_prepared_calls": args.distinct_calls,
        },
        "results": results,
        "ratios": ratios,
    }
    print(json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
