"""The long-run curve: ``kemu up`` at a fixed rate for an hour; memory of every process and freshness over time.

    .venv/bin/python -m bench.hour_run --minutes 60 --game-rate 20000 --plot docs/hour_run.png > hour.json

Starts ``kemu up`` the way ``bench/api_latency.py`` does (its own API and Kinesis ports, the game stream only, every
built-in query, the sinks) against the Kafka and S3 of the settings or embedded ones started here, then for
``--minutes``:

- every ``--sample-every`` seconds, the resident and proportional memory (RSS, PSS) of every process of the run:
  ``kemu up`` itself, each pipeline component (named by its ``pipeline-component`` argument), their children (the
  sinks' write workers) and, when started here, Kafka and MinIO;
- every ``--poll-every`` seconds, the leaderboard as the API serves it. Its *freshness* is how far the newest event it
  covers is behind the wall clock: the poll's time minus (the answer's watermark plus the source's out-of-orderness,
  which the watermark deliberately waits for). It is what a user of ``GET /leaderboards`` sees.
- every sample, the pipeline's own counters from ``/metrics`` (events produced, read by the engine, its lag).

The result (one JSON document on stdout; a table on stderr; a PNG with ``--plot``): each process's memory slope in
MB per minute after the warm-up (a least-squares line; "flat" means under 1 MB/min, the issue's bar), and per
``--window-minutes`` the freshness percentiles and the achieved produce and engine rates. Not a test: nothing here
asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench.api_latency import (
    add_kemu_up_arguments,
    get,
    kemu_up,
    pipeline_sample,
    progress,
    service_addresses,
    wait_for_board,
)
from bench.processes import processes_by_role
from emulator.settings import Settings

BOARD = "leaderboard_1m"
#: The game source's out-of-orderness (analytics/queries/sources.toml): the watermark trails the newest event by it.
OUT_OF_ORDERNESS_S = 2.0
#: The issue's bar for "flat": a process whose memory grows more slowly than this is not leaking.
FLAT_MB_PER_MIN = 1.0


# --- pure parts (tests/unit/bench/test_hour_run.py) ---------------------------------------------------------------


def slope_per_minute(samples: list[tuple[float, float]]) -> float | None:
    """The least-squares slope of ``(seconds, megabytes)`` samples, in MB per minute; None below three samples."""
    if len(samples) < 3:
        return None
    xs = [t / 60.0 for t, _ in samples]
    ys = [mb for _, mb in samples]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile (``q`` in 0..1) of the values, None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q * len(ordered) - 1e-9)))  # the epsilon: 0.29 * 100 is 28.999...
    return ordered[rank - 1]


def freshness_windows(polls: list[tuple[float, float]], window_s: float) -> list[dict[str, Any]]:
    """Freshness ``(seconds since start, freshness s)`` per consecutive window of ``window_s``: count, p50, p99, max."""
    buckets: dict[int, list[float]] = defaultdict(list)
    for t, freshness in polls:
        buckets[int(t // window_s)].append(freshness)
    return [
        {
            "from_min": round(index * window_s / 60, 1),
            "to_min": round((index + 1) * window_s / 60, 1),
            "polls": len(values),
            "p50_s": _rounded(percentile(values, 0.50)),
            "p99_s": _rounded(percentile(values, 0.99)),
            "max_s": _rounded(max(values)),
        }
        for index, values in sorted(buckets.items())
    ]


def _rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


# --- measuring ------------------------------------------------------------------------------------------------------


@dataclass
class MemoryLog:
    """Memory samples of every process below this one and of the Kafka and MinIO beside it, by role (a role seen
    twice at once gets ``#2``)."""

    started: float = field(default_factory=time.monotonic)
    rss: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))
    pss: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))

    def sample(self, root: psutil.Process) -> None:
        t = time.monotonic() - self.started
        for role, process in processes_by_role(root, services=True).items():
            try:
                memory = process.memory_full_info()
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            self.rss[role].append((t, memory.rss / 1e6))
            self.pss[role].append((t, memory.pss / 1e6))


def poll_freshness(url: str) -> float | None:
    """Seconds the served leaderboard trails the wall clock by (net of the out-of-orderness); None without one."""
    body = get(url, f"/leaderboards/{BOARD}?limit=10")
    now = time.time()
    if body is None:
        return None
    watermark = json.loads(body).get("watermark")
    if not watermark:
        return None
    covered = datetime.fromisoformat(watermark).timestamp() + OUT_OF_ORDERNESS_S
    return max(0.0, now - covered)


def run(args: argparse.Namespace) -> dict[str, Any]:
    me = psutil.Process()
    polls: list[tuple[float, float]] = []
    pipeline: list[dict[str, Any]] = []
    missed_polls = 0
    with service_addresses(Settings.load()) as addresses, tempfile.TemporaryDirectory(prefix="kemu-hour-") as tmp:
        progress(f"starting kemu up, game stream at {args.game_rate:,.0f} events/s")
        with kemu_up(args, addresses, Path(tmp)) as url:
            wait_for_board(url, args.board_timeout)
            progress(f"first {BOARD} result; measuring for {args.minutes:g} min")
            load_start = os.getloadavg()
            memory = MemoryLog()
            started = memory.started
            end = started + args.minutes * 60
            next_sample = started
            while (now := time.monotonic()) < end:
                if now >= next_sample:
                    memory.sample(me)
                    sample = pipeline_sample(url)
                    sample["t"] = round(sample["t"] - started, 1)
                    sample["load_1m"] = round(os.getloadavg()[0], 2)
                    pipeline.append(sample)
                    next_sample += args.sample_every
                    minutes = (now - started) / 60
                    if len(pipeline) % max(1, int(300 / args.sample_every)) == 0:
                        recent = [f for t, f in polls if t > now - started - 300]
                        p99 = percentile(recent, 0.99)
                        shown = "n/a" if p99 is None else f"{p99:.2f} s"
                        progress(f"{minutes:5.1f} min: freshness p99 (last 5 min) {shown}, load {sample['load_1m']}")
                freshness = poll_freshness(url)
                if freshness is None:
                    missed_polls += 1
                else:
                    polls.append((time.monotonic() - started, freshness))
                time.sleep(args.poll_every)
            load_end = os.getloadavg()
    return summary(args, memory, polls, pipeline, missed_polls, (load_start, load_end))


def summary(
    args: argparse.Namespace,
    memory: MemoryLog,
    polls: list[tuple[float, float]],
    pipeline: list[dict[str, Any]],
    missed_polls: int,
    load: tuple[tuple[float, ...], tuple[float, ...]],
) -> dict[str, Any]:
    warmup_s = args.warmup_minutes * 60
    processes = {}
    for role in sorted(memory.rss):
        rss, pss = memory.rss[role], memory.pss[role]
        steady = [(t, mb) for t, mb in pss if t >= warmup_s]
        slope = slope_per_minute(steady)
        processes[role] = {
            "pss_mb_start": round(pss[0][1], 1),
            "pss_mb_end": round(pss[-1][1], 1),
            "pss_mb_max": round(max(mb for _, mb in pss), 1),
            "rss_mb_end": round(rss[-1][1], 1),
            "pss_slope_mb_per_min": _rounded(slope),
            "rss_slope_mb_per_min": _rounded(slope_per_minute([(t, mb) for t, mb in rss if t >= warmup_s])),
            "flat": None if slope is None else slope < FLAT_MB_PER_MIN,
            "samples": len(pss),
        }
    engine = {}
    for key in ("engine_state_rows", "engine_state_mb", "engine_arrow_pool_mb"):
        series = [(s["t"], s[key]) for s in pipeline if s.get(key) is not None]
        steady = [(t, v) for t, v in series if t >= warmup_s]
        if series:
            engine[key] = {
                "start": series[0][1],
                "end": series[-1][1],
                "max": max(v for _, v in series),
                "slope_per_min": _rounded(slope_per_minute(steady)),
            }
    window_s = args.window_minutes * 60
    rates = []
    for index in range(int(args.minutes * 60 // window_s) + 1):
        inside = [s for s in pipeline if index * window_s <= s["t"] <= (index + 1) * window_s]
        if len(inside) >= 2:
            first, last = inside[0], inside[-1]
            span = max(last["t"] - first["t"], 1e-9)
            rates.append(
                {
                    "from_min": round(index * window_s / 60, 1),
                    "produced_per_s": round((last["produced"] - first["produced"]) / span, 1),
                    "engine_read_per_s": round((last["engine_read"] - first["engine_read"]) / span, 1),
                    "engine_lag_max": max((s["engine_lag"] or 0) for s in inside),
                    "load_1m_mean": round(statistics.fmean(s["load_1m"] for s in inside), 2),
                }
            )
    return {
        "benchmark": "hour_run",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average_start": [round(x, 2) for x in load[0]],
        "load_average_end": [round(x, 2) for x in load[1]],
        "minutes": args.minutes,
        "game_rate": args.game_rate,
        "warmup_minutes": args.warmup_minutes,
        "flat_below_mb_per_min": FLAT_MB_PER_MIN,
        "processes": processes,
        "engine_internals": engine,
        "freshness_definition": "poll time minus (served watermark + 2 s out-of-orderness), GET /leaderboards",
        "freshness": freshness_windows(polls, window_s),
        "freshness_overall": {
            "polls": len(polls),
            "missed_polls": missed_polls,
            "p50_s": _rounded(percentile([f for _, f in polls], 0.50)),
            "p99_s": _rounded(percentile([f for _, f in polls], 0.99)),
        },
        "pipeline": rates,
        "series": {
            "pss_mb": {role: [(round(t, 1), round(mb, 1)) for t, mb in values] for role, values in memory.pss.items()},
            "freshness_s": [(round(t, 1), round(f, 3)) for t, f in polls],
            "engine": [
                (s["t"], s.get("engine_state_rows"), s.get("engine_state_mb"), s.get("engine_arrow_pool_mb"))
                for s in pipeline
            ],
        },
    }


def table(result: dict[str, Any]) -> str:
    lines = [f"{'process':<28} {'PSS start':>10} {'PSS end':>9} {'slope MB/min':>13}  flat"]
    for role, figures in result["processes"].items():
        slope = figures["pss_slope_mb_per_min"]
        lines.append(
            f"{role:<28} {figures['pss_mb_start']:>10.1f} {figures['pss_mb_end']:>9.1f} "
            f"{'n/a' if slope is None else f'{slope:+.3f}':>13}  {figures['flat']}"
        )
    for key, figures in result.get("engine_internals", {}).items():
        slope = figures["slope_per_min"]
        lines.append(
            f"  {key:<26} {figures['start']:>10} {figures['end']:>9} {'n/a' if slope is None else f'{slope:+.3f}':>13}"
        )
    lines.append("")
    lines.append(f"{'minutes':<12} {'polls':>6} {'fresh p50 s':>12} {'fresh p99 s':>12} {'max s':>8}")
    for window in result["freshness"]:
        lines.append(
            f"{window['from_min']:>4g}-{window['to_min']:<7g} {window['polls']:>6} {window['p50_s']:>12} "
            f"{window['p99_s']:>12} {window['max_s']:>8}"
        )
    return "\n".join(lines)


def plot(result: dict[str, Any], path: Path) -> None:
    """A PNG: each process's PSS over the run (top), freshness per poll and its p99 per window (bottom)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on a server or in CI
    import matplotlib.pyplot as plt

    fig, (memory, fresh) = plt.subplots(2, 1, figsize=(10, 8), sharex=True)
    colours = plt.get_cmap("tab20").colors  # more processes than the default cycle has colours
    for index, (role, values) in enumerate(sorted(result["series"]["pss_mb"].items())):
        if values:
            minutes, megabytes = [t / 60 for t, _ in values], [mb for _, mb in values]
            memory.plot(minutes, megabytes, color=colours[index % len(colours)], label=role)
    engine = [row for row in result["series"].get("engine", []) if row[2] is not None]
    if engine:
        # Inside the engine's PSS (dashed: not processes): its queries' window state and pyarrow's pool.
        memory.plot([r[0] / 60 for r in engine], [r[2] for r in engine], "--", color="black", label="engine: state")
        memory.plot([r[0] / 60 for r in engine], [r[3] for r in engine], ":", color="black", label="engine: Arrow pool")
    memory.set_ylabel("PSS (MB)")
    memory.set_ylim(bottom=0)
    memory.set_title("memory of every process (PSS)", fontsize=10)
    memory.legend(fontsize=7, ncol=3, loc="upper left")
    memory.grid(True, alpha=0.3)
    series = result["series"]["freshness_s"]
    fresh.plot([t / 60 for t, _ in series], [f for _, f in series], ".", markersize=2, alpha=0.4, label="each poll")
    windows = result["freshness"]
    fresh.step(
        [w["from_min"] for w in windows] + [windows[-1]["to_min"]] if windows else [],
        [w["p99_s"] for w in windows] + [windows[-1]["p99_s"]] if windows else [],
        where="post",
        color="tab:red",
        label="p99 per window",
    )
    fresh.set_xlabel("minutes since the first result")
    fresh.set_ylabel("freshness (s)")
    fresh.set_ylim(bottom=0)
    fresh.set_title("GET /leaderboards freshness: wall clock minus the newest event covered", fontsize=10)
    fresh.legend(fontsize=8)
    fresh.grid(True, alpha=0.3)
    fig.suptitle(
        f"kemu up at {result['game_rate']:,.0f} events/s for {result['minutes']:g} min "
        f"({result['date']}, {result['machine']}, load {result['load_average_start'][0]}→"
        f"{result['load_average_end'][0]})",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the measured run")
    add_kemu_up_arguments(parser, board_timeout_s=180.0)
    parser.add_argument("--sample-every", type=float, default=30.0, help="seconds between memory samples")
    parser.add_argument("--poll-every", type=float, default=0.5, help="seconds between leaderboard polls")
    parser.add_argument("--window-minutes", type=float, default=10.0, help="freshness is summarised per window")
    # The rolling leaderboard's 10-minute windows hold more state each minute until the first of them closes: that
    # growth is the query's working set filling, not a leak, so slopes start after it.
    parser.add_argument("--warmup-minutes", type=float, default=12.0, help="memory slopes leave out this start")
    parser.add_argument("--plot", type=Path, default=None, help="write the PNG here")
    args = parser.parse_args()
    result = run(args)
    print(table(result), file=sys.stderr)
    if args.plot is not None:
        plot(result, args.plot)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
