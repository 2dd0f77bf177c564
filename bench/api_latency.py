"""GET /leaderboards/{name} latency at a fixed request rate while the real pipeline runs, as ``kemu up`` runs it.

    .venv/bin/python -m bench.api_latency --rate 1000 --duration 30

Starts ``kemu up`` as a subprocess (its own API and Kinesis ports) against the Kafka and S3 of the settings
(``KEMU_*``) or, if none, embedded ones it starts itself. The demo's producers write only the game stream, at
``--game-rate`` events/s (default 20,000; clickstream and IoT at 0), through the real DuckDB engine (every built-in
query) and the sinks, into the API. Once the leaderboard answers and the pipeline has warmed up, a child process
(``bench.api_load``) sends GETs open-loop at ``--rate`` and reports percentiles, both from the moment each request was
sent and from the moment it was due (``--processes N`` splits the rate over N generator processes, for rates one
cannot keep, and merges their samples). The pipeline's achieved produce rate and the analytics engine's lag are read
from ``/metrics`` at the start and end of the load, so the "pipeline at 20,000 events/s" condition is measured, not
assumed. One JSON object is printed on stdout.

Isolation on shared services: the engine gets a fresh checkpoint directory, starts at the end of the stream, and
writes its results and alerts to topics of this run only (the API reads those); the game stream itself is the
demo's ``game-events``, which another ``kemu up`` on the same Kafka would also write to.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench import h2load
from bench.analytics_support import delete_topics
from bench.api_load import summarise
from bench.processes import CpuSpan, processes_by_role
from emulator.services import LocalServices
from emulator.services.ports import free_port
from emulator.settings import Settings

BOARD = "leaderboard_1m"
_T0 = time.monotonic()


def progress(message: str) -> None:
    """Phases on stderr (stdout carries only the JSON)."""
    print(f"[{time.monotonic() - _T0:6.1f} s] {message}", file=sys.stderr, flush=True)


# --- the services and the system under test -----------------------------------------------------------------------


@contextlib.contextmanager
def service_addresses(settings: Settings) -> Iterator[dict[str, str]]:
    """``KEMU_*`` variables naming Kafka and S3: those of the settings, or of embedded services started here."""
    s3 = settings.s3
    if settings.kafka.bootstrap_servers and s3.endpoint_url and s3.access_key_id and s3.secret_access_key:
        yield {}  # already in the environment
        return
    with tempfile.TemporaryDirectory(prefix="kemu-bench-") as run_dir:
        launcher = LocalServices(settings.services, bucket=s3.bucket, run_dir=Path(run_dir))
        with launcher as state:
            creds = launcher.credentials()
            yield {
                "KEMU_KAFKA__BOOTSTRAP_SERVERS": state.kafka.bootstrap_servers,
                "KEMU_S3__ENDPOINT_URL": state.minio.endpoint_url,
                "KEMU_S3__ACCESS_KEY_ID": creds.access_key_id,
                "KEMU_S3__SECRET_ACCESS_KEY": creds.secret_access_key.get_secret_value(),
                "KEMU_S3__BUCKET": state.bucket,
            }


def add_kemu_up_arguments(parser: argparse.ArgumentParser, board_timeout_s: float) -> None:
    """The options :func:`kemu_up` and :func:`wait_for_board` read, the same in every benchmark that starts it."""
    parser.add_argument("--game-rate", type=float, default=20_000.0, help="events/s of the demo's game producer")
    parser.add_argument(
        "--malformed-ratio",
        type=float,
        default=0.0,
        help="share of malformed game events (the demo's default is 0.005; see BENCHMARKS.md for why 0 here)",
    )
    parser.add_argument("--pipeline-nice", type=int, default=None, help="override demo.pipeline_nice (0-19)")
    parser.add_argument(
        "--board-timeout", type=float, default=board_timeout_s, help="seconds to wait for the first result"
    )


def bootstrap_of(addresses: dict[str, str]) -> str:
    """Kafka's address: the one :func:`service_addresses` started, or the settings' (then ``addresses`` is empty)."""
    return addresses.get("KEMU_KAFKA__BOOTSTRAP_SERVERS") or Settings.load().kafka.bootstrap_servers


@contextlib.contextmanager
def kemu_up(
    args: argparse.Namespace, addresses: dict[str, str], work: Path, results_topic: str | None = None
) -> Iterator[str]:
    """``kemu up`` running with this run's settings; yields its API URL; stops it with SIGINT (as Ctrl-C). Its
    results go to ``results_topic`` when given, else to a new topic of this run; either is deleted at the end."""
    suffix = uuid.uuid4().hex[:8]
    results, alerts = results_topic or f"bench-api-results-{suffix}", f"bench-api-alerts-{suffix}"
    port = free_port()
    env = {
        **os.environ,
        **addresses,
        "KEMU_DEMO__GAME_RATE": str(args.game_rate),
        "KEMU_DEMO__CLICKSTREAM_RATE": "0",
        "KEMU_DEMO__IOT_RATE": "0",
        "KEMU_DEMO__MALFORMED_RATIO": str(args.malformed_ratio),
        "KEMU_KINESIS__PORT": str(free_port()),
        "KEMU_ANALYTICS__CHECKPOINT_DIR": str(work / "checkpoints"),
        "KEMU_ANALYTICS__START_FROM": "latest",
        "KEMU_ANALYTICS__RESULTS_TOPIC": results,
        "KEMU_ANALYTICS__ALERTS_TOPIC": alerts,
        "KEMU_SERVING__RESULTS_TOPIC": results,
        "KEMU_SERVING__ALERTS_TOPIC": alerts,
        "KEMU_SERVING__STREAMS": json.dumps(["game-events", results]),
        "KEMU_LOG_LEVEL": "WARNING",
        "COLUMNS": "200",
    }
    if args.pipeline_nice is not None:
        env["KEMU_DEMO__PIPELINE_NICE"] = str(args.pipeline_nice)
    log_path = work / "kemu-up.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "emulator", "up", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while get(url, "/healthz") is None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"kemu up did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        progress("stopping kemu up")
        process.send_signal(signal.SIGINT)
        try:
            process.wait(90)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            progress("kemu up did not stop within 90 s: killed")
        if process.returncode not in (0, 130):
            progress(f"kemu up exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        with contextlib.suppress(Exception):
            asyncio.run(delete_topics(bootstrap_of(addresses), [results, alerts]))


def get(url: str, path: str, timeout: float = 5.0) -> bytes | None:
    """The body of a 200 answer, else None."""
    try:
        with urllib.request.urlopen(url + path, timeout=timeout) as answer:  # noqa: S310 - our own local server
            body: bytes = answer.read()
            return body if answer.status == 200 else None
    except (urllib.error.URLError, OSError):
        return None


_SAMPLE = re.compile(r'^(kemu_\w+)\{component="([^"]+)"\} ([0-9.eE+-]+)$', re.MULTILINE)
_ENGINE_STAT = re.compile(r'^kemu_component_stat\{component="analytics",stat="(\w+)"\} ([0-9.eE+-]+)$', re.MULTILINE)


def pipeline_sample(url: str) -> dict[str, Any]:
    """The pipeline's figures now, from ``/metrics`` (the components' own stats) and ``/streams``."""
    metrics = (get(url, "/metrics") or b"").decode()
    values = {(name, component): float(value) for name, component, value in _SAMPLE.findall(metrics)}
    engine = {stat: float(value) for stat, value in _ENGINE_STAT.findall(metrics)}
    streams = json.loads(get(url, "/streams") or b"{}").get("streams", [])
    game = next((s for s in streams if s["name"] == "game-events"), None)
    return {
        "t": time.monotonic(),
        "produced": values.get(("kemu_events_out_total", "producer-game"), 0.0),
        "engine_read": values.get(("kemu_events_in_total", "analytics"), 0.0),
        "engine_lag": values.get(("kemu_component_lag", "analytics")),
        "sink_lag": values.get(("kemu_component_lag", "sink-game-events-to-s3")),
        "stream_records_per_s": game["records_per_s"] if game else None,
        "components_up": sum(v for (name, _), v in values.items() if name == "kemu_component_up"),
        # Inside the engine's memory: the queries' window state and pyarrow's pool (the decoded batches in flight).
        "engine_state_rows": engine.get("state_rows"),
        "engine_state_mb": _megabytes(engine.get("state_bytes")),
        "engine_arrow_pool_mb": _megabytes(engine.get("arrow_pool_bytes")),
    }


def _megabytes(size: float | None) -> float | None:
    return None if size is None else round(size / 1e6, 1)


def rate_between(before: dict[str, Any], after: dict[str, Any], key: str) -> float:
    return round((after[key] - before[key]) / max(after["t"] - before["t"], 1e-9), 1)


def wait_for_board(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body = get(url, f"/leaderboards/{BOARD}")
        if body is not None and json.loads(body).get("entries"):
            return
        time.sleep(0.5)
    raise RuntimeError(f"no {BOARD} result within {timeout_s:.0f} s")


def load_from_child(url: str, path: str, args: argparse.Namespace) -> dict[str, Any]:
    """The load on ``url + path`` from the generator ``--generator`` names."""
    if args.generator == "h2load":
        return h2load.load(url, path, args.rate, args.duration, args.connections)
    return load_from_python(url, path, args)


def load_from_python(url: str, path: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run the load generator in its own processes (their CPU is not the server's): ``--processes`` of them, each
    sending ``rate / processes`` on ``connections / processes`` connections, their samples merged into one summary."""
    processes = max(1, args.processes)
    command = [sys.executable, "-m", "bench.api_load", url, "--path", path, "--rate", str(args.rate / processes)]
    command += ["--duration", str(args.duration), "--connections", str(max(1, args.connections // processes))]
    if processes > 1:
        command.append("--raw")
    children = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(processes)
    ]
    outputs = []
    try:
        for child in children:
            stdout, stderr = child.communicate(timeout=args.duration + 120)
            if child.returncode != 0:
                raise RuntimeError(f"load generator exited with {child.returncode}: {stderr[-2000:]!r}")
            outputs.append(json.loads(stdout))
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    return merge_loads(outputs, args.rate) if processes > 1 else outputs[0]


def merge_loads(outputs: list[dict[str, Any]], rate: float) -> dict[str, Any]:
    """One summary of several generators' raw samples, as if one generator had sent them all."""
    samples = [tuple(sample) for output in outputs for sample in output["samples"]]
    merged = summarise(samples, sum(o["requests"] for o in outputs), max(o["elapsed_s"] for o in outputs), rate)
    merged["generator_processes"] = len(outputs)
    return merged


def run(args: argparse.Namespace) -> dict[str, Any]:
    with service_addresses(Settings.load()) as addresses, tempfile.TemporaryDirectory(prefix="kemu-bench-") as tmp:
        progress(f"starting kemu up, game stream at {args.game_rate:,.0f} events/s")
        with kemu_up(args, addresses, Path(tmp)) as url:
            progress(f"API at {url}; waiting for the first {BOARD} result")
            wait_for_board(url, args.board_timeout)
            progress(f"warming up {args.warmup:.0f} s")
            warm = pipeline_sample(url)
            time.sleep(args.warmup)
            start = pipeline_sample(url)
            load_avg_start = os.getloadavg()
            progress(f"{args.rate:.0f} GET/s for {args.duration:.0f} s on /leaderboards/{BOARD}")
            # Where the machine's CPU goes during the load: the pipeline's processes, Kafka, MinIO, the generator.
            cpu = CpuSpan(processes_by_role(psutil.Process(), services=True))
            cpu.start()
            load = load_from_child(url, f"/leaderboards/{BOARD}?limit={args.limit}", args)
            cpu_during_load = cpu.stop()
            end = pipeline_sample(url)
            load_avg_end = os.getloadavg()
            # The peer measured in the same run: the same server answering its cheapest FastAPI route.
            baseline = load_from_child(url, "/healthz", args) if args.baseline else None
    return {
        "benchmark": "api_latency",
        "endpoint": f"GET /leaderboards/{BOARD}?limit={args.limit}",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average_start": [round(x, 2) for x in load_avg_start],
        "load_average_end": [round(x, 2) for x in load_avg_end],
        "duration_s": args.duration,
        "connections": args.connections,
        "pipeline": {
            "setup": (
                f"kemu up subprocess: producer-game at {args.game_rate:,.0f} events/s (clickstream, iot 0), "
                "the DuckDB engine with every built-in query, the sinks, the Kinesis API; each in a child process"
            ),
            "target_events_per_s": args.game_rate,
            "malformed_ratio": args.malformed_ratio,
            "produced_per_s_warmup": rate_between(warm, start, "produced"),
            "produced_per_s_during_load": rate_between(start, end, "produced"),
            "engine_read_per_s_during_load": rate_between(start, end, "engine_read"),
            "engine_lag_start": start["engine_lag"],
            "engine_lag_end": end["engine_lag"],
            "sink_lag_start": start["sink_lag"],
            "sink_lag_end": end["sink_lag"],
            "stream_records_per_s_start": start["stream_records_per_s"],
            "stream_records_per_s_end": end["stream_records_per_s"],
            "components_up_end": end["components_up"],
        },
        **load,
        "cpu_during_load": cpu_during_load,
        "baseline_healthz": baseline,
        "p99_ratio_to_healthz": round(load["p99_ms"] / baseline["p99_ms"], 2) if baseline else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=1000.0, help="GET requests per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections of the generator")
    parser.add_argument(
        "--processes", type=int, default=1, help="load-generator processes sharing the rate (for rates one cannot keep)"
    )
    parser.add_argument(
        "--generator",
        choices=("python", "h2load"),
        default="python",
        help="bench.api_load (open loop, Python) or nghttp2's h2load (C, lighter; see bench/h2load.py)",
    )
    parser.add_argument("--limit", type=int, default=10, help="entries per answer")
    add_kemu_up_arguments(parser, board_timeout_s=120.0)
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds between the first result and the load")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false", help="skip the /healthz peer run")
    args = parser.parse_args()
    if args.generator == "h2load" and not h2load.available():
        parser.error("--generator h2load needs h2load on PATH (Debian: apt-get install nghttp2-client)")
    print(json.dumps(run(args), indent=2))


if __name__ == "__main__":
    main()
