"""MinIO stopped for 30 seconds mid-run: the sink waits (bounded memory), resumes by itself, loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

import psutil

from tests.integration.sinks.child import sink_child
from tests.integration.sinks.helpers import landed

EVENTS = 60_000
OUTAGE_S = 30


async def test_minio_outage_of_30_seconds_loses_nothing_and_memory_stays_bounded(tmp_path: Path) -> None:
    async with sink_child(tmp_path, "outage") as child:
        watched = psutil.Process(child.process.pid)
        peak = 0

        def tree_rss() -> int:
            """The sink's memory: the proportional set size (PSS) of it and of its write worker, summed. PSS is RSS
            with each page shared by the two (the interpreter, libc) counted once, split between them: a sum of RSS
            would count those pages twice."""
            total = 0
            for proc in [watched, *watched.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += proc.memory_full_info().pss
            return total

        async def sample_rss() -> None:
            nonlocal peak
            while True:
                peak = max(peak, tree_rss())
                await asyncio.sleep(0.1)

        sampler = asyncio.create_task(sample_rss())
        try:
            await child.produce(0, EVENTS // 3)
            await asyncio.sleep(4)
            rss_before = tree_rss()
            child.services.stop_minio()
            loop = asyncio.get_running_loop()
            outage_started = loop.time()
            for chunk in range(2):  # the rest arrives while S3 is away
                await child.produce(EVENTS // 3 * (chunk + 1), EVENTS // 3 * (chunk + 2) if chunk == 0 else EVENTS)
            await asyncio.sleep(max(0.0, OUTAGE_S - (loop.time() - outage_started)))
            assert child.process.returncode is None, child.output()[-2000:]
            peak_during_outage = peak
            child.services.start_minio()
            delivered = await child.wait_delivered(EVENTS, tries=600)  # the sink resumes by itself
            assert delivered == EVENTS, child.output()[-2000:]
            child.process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(child.process.wait(), 30) == 0
        finally:
            sampler.cancel()
        output = child.output()
        assert "S3 unavailable" in output
        assert "waiting for S3" in output
        retries = int(output.rsplit("S3 retries ", 1)[1].split()[0].replace(",", ""))
        assert retries > 0
        con = landed(child.endpoints, "outage/data/")
        assert con.execute("select count(*), count(distinct event_id) from landed").fetchone() == (EVENTS, EVENTS)
        # Consumption paused while S3 was away: memory grew by at most a few buffers, not by the backlog.
        mib = 2**20
        print(
            f"\nPSS before outage {rss_before / mib:.0f} MiB, peak during outage {peak_during_outage / mib:.0f} MiB, "
            f"peak {peak / mib:.0f} MiB"
        )
        assert peak_during_outage - rss_before < 64 * mib
        # The budget, twice the total buffer size plus 200 MiB: 1 MiB buffers for each of the 2 partitions.
        assert peak < 2 * (2 * 1 * mib) + 200 * mib, f"peak {peak / mib:.0f} MiB"
