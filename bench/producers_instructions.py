"""Benchmark: instructions per event of each generator alone (no Kafka), counted by valgrind, whatever the load.

Wall-clock rates on a shared machine move by a factor of two between runs; the instructions a loop executes do not.
For each generator this runs the generator loop (``RecordSource.next_records`` in chunks of 4,096, realism as given)
twice under ``valgrind --tool=callgrind``: with ``--events`` events and with none (both after a 4,096-event
warm-up), and reports the difference divided by the events. Prints one JSON document.

    .venv/bin/python bench/producers_instructions.py [--events 40000] [--kinds game,clickstream,iot]
                                                     [--out-of-order 0.02 --malformed 0.005]

Needs ``valgrind`` (Debian: ``apt-get install valgrind``). Each run takes about half a minute.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.report import header

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

COLLECTED = re.compile(r"Collected : (\d+)")


def loop(kind: str, events: int, out_of_order: float, malformed: float) -> None:
    """The measured body: a warm-up chunk, then ``events`` events."""
    from producers import GeneratorConfig, RealismConfig, RecordSource, StreamKind, make_generator, quiet_gc

    config = GeneratorConfig(kind=StreamKind(kind), seed=1, start_time_ms=1_795_000_000_000, events_per_second=1e5)
    realism = RealismConfig(out_of_order_ratio=out_of_order, malformed_ratio=malformed)
    source = RecordSource(make_generator(config), realism, 1)
    with quiet_gc(4096):
        source.next_records(4096)
        done = 0
        while done < events:
            done += len(source.next_records(min(4096, events - done)))


def instructions(kind: str, events: int, args: argparse.Namespace) -> int:
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__]
    command += ["--loop", kind, "--events", str(events)]
    command += ["--out-of-order", str(args.out_of_order), "--malformed", str(args.malformed)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    found = COLLECTED.search(done.stderr)
    if found is None:
        raise RuntimeError(f"valgrind printed no instruction count: {done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--kinds", default="game,clickstream,iot")
    parser.add_argument("--out-of-order", type=float, default=0.0)
    parser.add_argument("--malformed", type=float, default=0.0)
    parser.add_argument("--loop", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loop:
        loop(args.loop, args.events, args.out_of_order, args.malformed)
        return
    if shutil.which("valgrind") is None:
        sys.exit("error: valgrind is not installed (Debian: apt-get install valgrind)")
    results: dict[str, Any] = {}
    for kind in args.kinds.split(","):
        base, measured = instructions(kind, 0, args), instructions(kind, args.events, args)
        results[kind] = {
            "instructions_per_event": round((measured - base) / args.events),
            "instructions_total": measured,
            "instructions_startup": base,
        }
    print(
        json.dumps(
            {
                **header("producers_instructions"),
                "settings": {
                    "events": args.events,
                    "out_of_order_ratio": args.out_of_order,
                    "malformed_ratio": args.malformed,
                },
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
