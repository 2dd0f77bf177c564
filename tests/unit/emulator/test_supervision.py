from __future__ import annotations

import asyncio

import pytest

from emulator.supervision import RestartBackoff, State, Supervisor, SupervisorEvent

FAST = RestartBackoff(initial_s=0.01, factor=2.0, maximum_s=0.05, reset_after_s=60.0)


class Flaky:
    """Fails ``failures`` times, then runs until cancelled."""

    def __init__(self, name: str, failures: int) -> None:
        self.name = name
        self.failures = failures
        self.attempts = 0
        self.running = asyncio.Event()
        self.cancelled = False

    async def run(self) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise RuntimeError(f"boom {self.attempts}")
        self.running.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise


class StartStop:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    async def start(self) -> None:
        self.log.append(f"start {self.name}")

    async def stop(self) -> None:
        self.log.append(f"stop {self.name}")


def test_backoff_grows_exponentially_up_to_its_maximum() -> None:
    backoff = RestartBackoff(initial_s=0.5, factor=2.0, maximum_s=3.0)
    assert [backoff.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


async def test_a_failing_component_is_reported_and_restarted_until_it_runs() -> None:
    events: list[SupervisorEvent] = []
    flaky = Flaky("flaky", failures=2)
    async with Supervisor(backoff=FAST, on_event=events.append) as supervisor:
        supervisor.add(flaky)
        await asyncio.wait_for(flaky.running.wait(), 5)
        status = supervisor.status("flaky")
        assert status is not None
        assert (status.state, status.failures, status.restarts, status.starts) == (State.RUNNING, 2, 2, 3)
        assert status.last_error == "RuntimeError: boom 2"
    assert flaky.cancelled
    assert [(e.kind, e.detail.split(";")[0]) for e in events] == [
        ("failed", "RuntimeError: boom 1"),
        ("restarted", "restart 1"),
        ("failed", "RuntimeError: boom 2"),
        ("restarted", "restart 2"),
    ]


async def test_start_stop_components_stop_in_reverse_order() -> None:
    log: list[str] = []
    supervisor = Supervisor(backoff=FAST)
    for name in ("sink", "analytics", "producers"):
        supervisor.add(StartStop(name, log))
    await supervisor.start()
    for _ in range(100):
        if len(log) == 3:
            break
        await asyncio.sleep(0.01)
    await supervisor.stop()
    assert log[:3] == ["start sink", "start analytics", "start producers"]
    assert log[3:] == ["stop producers", "stop analytics", "stop sink"]


async def test_a_component_that_finishes_is_done_not_restarted() -> None:
    class Once:
        name = "once"
        runs = 0

        async def run(self) -> None:
            Once.runs += 1

    async with Supervisor(backoff=FAST) as supervisor:
        supervisor.add(Once())
        await asyncio.sleep(0.1)
        status = supervisor.status("once")
        assert status is not None
        assert status.state is State.DONE
    assert Once.runs == 1


async def test_stats_of_components_are_collected() -> None:
    class Counting:
        name = "producer"

        async def run(self) -> None:
            await asyncio.Event().wait()

        def stats(self) -> dict[str, float]:
            return {"events_out": 42}

    async with Supervisor() as supervisor:
        supervisor.add(Counting())
        assert supervisor.component_stats() == {"producer": {"events_out": 42}}


async def test_names_are_unique_and_shapes_checked() -> None:
    supervisor = Supervisor()
    supervisor.add(Flaky("a", 0))
    with pytest.raises(ValueError, match="already supervised"):
        supervisor.add(Flaky("a", 0))
    with pytest.raises(TypeError, match="neither run"):
        supervisor.add(object())  # type: ignore[arg-type]
