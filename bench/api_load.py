"""The load generator of ``bench.api_latency``, in its own process and importing only the standard library, so it
starts at once and its CPU is not the server's.

    python -m bench.api_load http://127.0.0.1:8000 --path /leaderboards/top-players --rate 1000 --duration 30

Open loop: request ``i`` is due at ``start + i / rate`` whatever happened to the earlier ones; a pool of keep-alive
connections sends them with a minimal HTTP/1.1 client. Prints one JSON line; with ``--raw``, the samples too, so that
a parent running several generators (``bench.api_latency --processes N``, for rates one process cannot keep) can
merge them into one set of percentiles with :func:`summarise`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any


async def _connection(host: str, port: int, request: bytes, due: asyncio.Queue[float | None], out: list[Any]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while (scheduled := await due.get()) is not None:
            sent = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            done = time.perf_counter()
            out.append((done - sent, done - scheduled, status))
    finally:
        writer.close()


async def generate_load(
    url: str, path: str, rate: float, duration_s: float, connections: int, raw: bool = False
) -> dict[str, Any]:
    host, _, port = url.removeprefix("http://").partition(":")
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n\r\n".encode()
    due: asyncio.Queue[float | None] = asyncio.Queue()
    samples: list[Any] = []
    workers = [asyncio.create_task(_connection(host, int(port), request, due, samples)) for _ in range(connections)]
    total = int(rate * duration_s)
    start = time.perf_counter() + 0.2
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        due.put_nowait(scheduled)
    for _ in workers:
        due.put_nowait(None)
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - start
    result = summarise(samples, total, elapsed, rate)
    if raw:
        result["elapsed_s"] = elapsed
        result["samples"] = [[round(service, 7), round(scheduled, 7), status] for service, scheduled, status in samples]
    return result


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def summarise(samples: list[Any], total: int, elapsed: float, rate: float) -> dict[str, Any]:
    service = sorted(s[0] * 1000 for s in samples)
    scheduled = sorted(s[1] * 1000 for s in samples)
    errors = sum(1 for s in samples if s[2] != 200)
    return {
        "requests": total,
        "completed": len(samples),
        "non_200": errors,
        "rate_target": rate,
        "rate_achieved": round(len(samples) / elapsed, 1),
        "p50_ms": round(percentile(service, 0.50), 3),
        "p90_ms": round(percentile(service, 0.90), 3),
        "p99_ms": round(percentile(service, 0.99), 3),
        "max_ms": round(service[-1], 3) if service else None,
        "p50_from_schedule_ms": round(percentile(scheduled, 0.50), 3),
        "p99_from_schedule_ms": round(percentile(scheduled, 0.99), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="http://host:port of the API")
    parser.add_argument("--path", default="/leaderboards/top-players")
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--raw", action="store_true", help="add every (service s, from schedule s, status) sample")
    args = parser.parse_args()
    load = generate_load(args.url, args.path, args.rate, args.duration, args.connections, args.raw)
    print(json.dumps(asyncio.run(load)))


if __name__ == "__main__":
    main()
