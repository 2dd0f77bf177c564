"""The processes of a benchmark run, named by what they run, and the CPU each of them used over a span.

``kemu up`` runs each pipeline component in a child process (``pipeline-component NAME``), the sinks' write workers
below those, and Kafka and MinIO either below the benchmark (started by it) or beside it (``kemu services up``).
"""

from __future__ import annotations

import os
import resource
import time
from collections import defaultdict
from dataclasses import dataclass

import psutil


def role_of(cmdline: list[str], parent_role: str | None) -> str:
    """A readable, stable name for a process of the run: the pipeline component it runs, or what it is."""
    if "pipeline-component" in cmdline:
        index = cmdline.index("pipeline-component")
        if index + 1 < len(cmdline):
            return cmdline[index + 1]
    joined = " ".join(cmdline)
    if "kafka.Kafka" in joined or "kafka-server-start" in joined:
        return "kafka"
    if "minio" in joined:
        return "minio"
    if " up " in f" {joined} " and "emulator" in joined:
        return "kemu-up"
    if parent_role is not None:
        return f"{parent_role}/child"
    return os.path.basename(cmdline[0]) if cmdline else "?"


def processes_by_role(root: psutil.Process, services: bool = False) -> dict[str, psutil.Process]:
    """Every process below ``root`` by role (a role seen twice gets ``#2``); with ``services``, also the Kafka
    brokers and MinIO servers running beside it (``kemu services up``), which the pipeline's load falls on too."""
    roles: dict[int, str] = {root.pid: "bench"}
    seen: dict[str, int] = defaultdict(int)
    found: dict[str, psutil.Process] = {}

    def add(process: psutil.Process, role: str) -> None:
        seen[role] += 1
        if seen[role] > 1:
            role = f"{role}#{seen[role]}"
        roles[process.pid] = role
        found[role] = process

    for process in sorted(root.children(recursive=True), key=lambda p: p.pid):
        try:
            parent = process.ppid()
            add(process, role_of(process.cmdline(), roles.get(parent) if parent != root.pid else None))
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    if services:
        for process in psutil.process_iter():
            if process.pid in roles:
                continue
            try:
                role = role_of(process.cmdline(), None)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            if role in ("kafka", "minio"):
                add(process, role)
    return found


@dataclass
class CpuSpan:
    """CPU seconds of each process between :meth:`start` and :meth:`stop`, and of the whole machine."""

    processes: dict[str, psutil.Process]
    wall_started: float = 0.0
    cpu_started: dict[str, float] | None = None
    machine_started: float = 0.0
    children_started: float = 0.0

    def start(self) -> None:
        self.cpu_started = _cpu_seconds(self.processes)
        self.machine_started = _machine_busy_seconds()
        self.children_started = _waited_children_seconds()
        self.wall_started = time.monotonic()

    def stop(self) -> dict[str, object]:
        """Cores used on average over the span: per process (largest first), in all, and by the machine."""
        wall = max(time.monotonic() - self.wall_started, 1e-9)
        ended = _cpu_seconds(self.processes)
        started = self.cpu_started or {}
        cores = {role: round((ended[role] - started[role]) / wall, 3) for role in ended if role in started}
        # Processes started and waited for inside the span (a load generator) are not in ``processes``: the kernel
        # adds their CPU to this process's children's once they are reaped.
        cores["started and ended inside (the load generator)"] = round(
            (_waited_children_seconds() - self.children_started) / wall, 3
        )
        return {
            "seconds": round(wall, 1),
            "cores_by_process": dict(sorted(cores.items(), key=lambda item: -item[1])),
            "cores_of_these_processes": round(sum(cores.values()), 3),
            "cores_busy_machine": round((_machine_busy_seconds() - self.machine_started) / wall, 3),
            "cores_available": os.cpu_count(),
        }


def cpu_seconds(process: psutil.Process) -> float:
    """CPU time a process has used so far, user and system."""
    times = process.cpu_times()
    return float(times.user + times.system)


def _cpu_seconds(processes: dict[str, psutil.Process]) -> dict[str, float]:
    found = {}
    for role, process in processes.items():
        try:
            found[role] = cpu_seconds(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def _machine_busy_seconds() -> float:
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def _waited_children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
