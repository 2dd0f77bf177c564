"""A real browser (Debian's headless Chromium, driven by Playwright) against the real demo (the producers, the DuckDB
engine and the API, the pipeline in child processes as ``kemu up`` runs it): the leaderboard rows appear and change
as the engine's results flow through Kafka, and a screenshot is kept in ``artifacts/``."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import httpx
from playwright.async_api import async_playwright

from tests.conftest import TopicFactory
from tests.support.demo import running_pipeline_demo
from tests.support.endpoints import Endpoints

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_binary() -> str:
    """Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it). Never a browser Playwright downloads."""
    for candidate in ("/usr/lib/chromium/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    raise AssertionError("Chromium is not installed: run `apt-get install -y chromium` (as .ci/run does)")


async def test_leaderboard_rows_appear_and_change_in_a_real_browser(
    endpoints: Endpoints, new_topic: TopicFactory, tmp_path: Path
) -> None:
    results_topic, alerts_topic = await new_topic(partitions=2), await new_topic()
    ARTIFACTS.mkdir(exist_ok=True)
    async with (
        running_pipeline_demo(endpoints, results_topic, alerts_topic, tmp_path, game_rate=300) as demo,
        async_playwright() as playwright,
    ):
        with tempfile.TemporaryDirectory(prefix="kemu-chromium-") as profile:
            context = await playwright.chromium.launch_persistent_context(
                profile,
                executable_path=chromium_binary(),
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport={"width": 1280, "height": 800},
            )
            try:
                page = context.pages[0] if context.pages else await context.new_page()
                await page.goto(demo.url + "/")
                rows = page.locator("#board-rows tr.board-row")
                await rows.first.wait_for(timeout=30_000)
                first = await rows.all_inner_texts()
                assert first, "no leaderboard rows rendered"
                # The producer keeps adding points and the engine emits every change: the board moves by itself.
                await page.wait_for_function(
                    """(before) => {
                        const rows = Array.from(document.querySelectorAll('#board-rows tr.board-row'));
                        return rows.length > 0 && rows.map(r => r.innerText).join('|') !== before;
                    }""",
                    arg="|".join(first),
                    timeout=20_000,
                )
                changed = await rows.all_inner_texts()
                assert changed != first
                # What the page shows is what the API answers: the engine's boards, as of a watermark.
                meta = await page.locator("#board-meta").inner_text()
                assert "as of watermark" in meta
                async with httpx.AsyncClient(base_url=demo.url) as http:
                    boards = (await http.get("/leaderboards")).json()["leaderboards"]
                    shown = await page.locator("#board-select").input_value()
                    answer = (await http.get(f"/leaderboards/{shown}")).json()
                assert {"leaderboard_1m", "leaderboard_rolling_10m"} <= {b["name"] for b in boards}
                assert answer["entries"], answer
                # The throughput chart got points from /streams.
                await page.wait_for_function("document.querySelector('#rate-chart polyline') !== null", timeout=10_000)
                await page.wait_for_timeout(2_500)  # a few more chart points for the screenshot
                await page.screenshot(path=str(ARTIFACTS / "live-page.png"), full_page=True)
            finally:
                await context.close()
    assert (ARTIFACTS / "live-page.png").stat().st_size > 10_000
