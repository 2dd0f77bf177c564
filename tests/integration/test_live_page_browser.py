"""A real browser (Debian's headless Chromium, driven by Playwright) against the real demo (producers, the DuckDB
engine, Firehose-like delivery to MinIO and the API, the pipeline in child processes as ``kemu up`` runs it).

After 30 s of the demo the page must show what a person watches it for, and screenshots are kept in
``artifacts/`` to be looked at: the pipeline drawn with its rates and each query's watermark delay, charts with axes
and clock times that fill their panels and move, the leaderboard changing, delivery streams with objects, bytes and
the last object key, the user's streams apart from kemu's own topics. ``/docs`` must render Swagger UI with no
internet (Chromium here has none, so a CDN asset would leave it blank)."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from playwright.async_api import Page, async_playwright

from emulator.config.sinks import default_delivery_streams
from sinks import BufferingHints, DeliveryStreamConfig
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
WATCH_S = 30.0
CLOCK = re.compile(r"^\d{2}:\d{2}:\d{2}$")


def chromium_binary() -> str:
    """Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it). Never a browser Playwright downloads."""
    for candidate in ("/usr/lib/chromium/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    raise AssertionError("Chromium is not installed: run `apt-get install -y chromium` (as .ci/run does)")


def delivery_streams(prefix: str) -> list[DeliveryStreamConfig]:
    """The demo's three delivery streams, named for this test (own consumer groups, own key prefix) and writing
    every 5 s, so objects land within the test's 30 s."""
    return [
        stream.model_copy(
            update={
                "name": f"{prefix}-{stream.source_topic}",
                "prefix": f"{prefix}/{stream.prefix}",
                "error_output_prefix": f"{prefix}-{stream.error_output_prefix}",
                "buffering": BufferingHints(size_mib=5, interval_s=5),
            }
        )
        for stream in default_delivery_streams()
    ]


async def start_at_the_tip(bootstrap: str, streams: list[DeliveryStreamConfig]) -> None:
    """Commit the topics' end offsets for the delivery streams' groups, as Firehose starts a stream at the tip:
    the session's topics hold other tests' events, which the test's sinks need not deliver again."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        described = await admin.describe_topics([s.source_topic for s in streams])
        partitions = {d["topic"]: [p["partition"] for p in d["partitions"]] for d in described if not d["error_code"]}
    finally:
        await admin.close()
    for stream in streams:
        tps = [TopicPartition(stream.source_topic, p) for p in sorted(partitions.get(stream.source_topic, []))]
        if not tps:
            continue  # the demo creates it: its sink starts at the beginning of an empty topic
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=stream.group_id, enable_auto_commit=False)
        try:
            await consumer.start()
            consumer.assign(tps)
            await consumer.commit(await consumer.end_offsets(tps))
        finally:
            await consumer.stop()


async def chart_state(page: Page, chart: str) -> dict[str, Any]:
    result: dict[str, Any] = await page.evaluate(
        """(id) => {
            const svg = document.getElementById(id);
            const box = svg.getBoundingClientRect();
            const panel = svg.parentElement.getBoundingClientRect();
            const lines = Array.from(svg.querySelectorAll('polyline.series')).map(l => l.getAttribute('points'));
            const ticks = Array.from(svg.querySelectorAll('text.tick')).map(t => t.textContent);
            return {width: box.width, height: box.height, panelWidth: panel.width, panelHeight: panel.height,
                    lines, ticks, axes: svg.querySelectorAll('line.axis').length};
        }""",
        chart,
    )
    return result


async def test_the_live_page_shows_the_running_pipeline(
    endpoints: Endpoints, new_topic: TopicFactory, tmp_path: Path
) -> None:
    results_topic, alerts_topic = await new_topic(partitions=2), await new_topic()
    prefix = f"live-{uuid.uuid4().hex[:8]}"
    streams = delivery_streams(prefix)
    await start_at_the_tip(endpoints.kafka_bootstrap, streams)
    ARTIFACTS.mkdir(exist_ok=True)
    async with (
        running_pipeline_demo(
            endpoints,
            results_topic,
            alerts_topic,
            tmp_path,
            game_rate=300,
            clickstream_rate=100,
            iot_rate=50,
            delivery=streams,
            streams=(),  # every topic, so the page has internal topics to keep apart
            # What the page shows is the point here, not who yields the CPU: at nice 19 the engine starves for
            # minutes on a machine that other work keeps busy.
            pipeline_nice=0,
        ) as demo,
        async_playwright() as playwright,
    ):
        with tempfile.TemporaryDirectory(prefix="kemu-chromium-") as profile:
            context = await playwright.chromium.launch_persistent_context(
                profile,
                executable_path=chromium_binary(),
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport={"width": 1600, "height": 1000},
            )
            page = context.pages[0] if context.pages else await context.new_page()
            try:
                await watch_the_page(page, demo.url, endpoints.bucket, prefix, results_topic)
                await page.goto(demo.url + "/docs")
                await page.locator(".swagger-ui .opblock").first.wait_for(timeout=30_000)
                assert await page.locator(".swagger-ui .opblock").count() >= 8
                await page.screenshot(path=str(ARTIFACTS / "live-page-docs.png"))
            except BaseException:
                # What the page showed when a check failed, to look at beside the error.
                await page.screenshot(path=str(ARTIFACTS / "live-page-failed.png"), full_page=True)
                raise
            finally:
                await context.close()
    assert (ARTIFACTS / "live-page.png").stat().st_size > 50_000


async def watch_the_page(page: Page, url: str, bucket: str, prefix: str, results_topic: str) -> None:
    await page.goto(url + "/")
    opened = time.monotonic()
    rows = page.locator("#board-rows tr.board-row")
    await rows.first.wait_for(timeout=120_000)
    first = await rows.all_inner_texts()
    # The producer keeps adding points and the engine emits every change: the board moves by itself.
    await page.wait_for_function(
        """(before) => {
            const rows = Array.from(document.querySelectorAll('#board-rows tr.board-row'));
            return rows.length > 0 && rows.map(r => r.innerText).join('|') !== before;
        }""",
        arg="|".join(first),
        timeout=30_000,
    )
    assert "as of watermark" in await page.locator("#board-meta").inner_text()
    earlier = await chart_state(page, "rate-chart")
    # 30 s of the demo in all, and at least 10 s between the two looks at the chart (it must have moved).
    await page.wait_for_timeout(max(WATCH_S - (time.monotonic() - opened), 10.0) * 1000)
    await page.screenshot(path=str(ARTIFACTS / "live-page.png"), full_page=True)
    await check_charts(page, earlier)
    await check_pipeline(page, bucket)
    await check_delivery_and_streams(page, url, prefix, results_topic)


async def check_charts(page: Page, earlier: dict[str, Any]) -> None:
    for chart in ("rate-chart", "lag-chart"):
        state = await chart_state(page, chart)
        assert state["axes"] == 2, (chart, state)
        clocks = [t for t in state["ticks"] if CLOCK.match(t)]
        assert len(clocks) >= 3, (chart, state["ticks"])  # time labels on the x axis
        assert len(state["ticks"]) - len(clocks) >= 2, (chart, state["ticks"])  # values on the y axis
        assert state["width"] >= 0.9 * state["panelWidth"] - 40, (chart, state)  # the chart fills its panel's width
        assert state["height"] >= 110, (chart, state)
        assert state["lines"], chart
        assert all(len(line.split()) >= 5 for line in state["lines"]), (chart, state["lines"])
    moved = await chart_state(page, "rate-chart")
    assert moved["lines"] != earlier["lines"], "the throughput chart did not move in 30 s"
    rate = await page.locator("#rate-now").inner_text()
    assert re.search(r"[1-9][\d,]* records/s", rate), rate


async def check_pipeline(page: Page, bucket: str) -> None:
    ids = await page.eval_on_selector_all("#pipeline g.node", "nodes => nodes.map(n => n.dataset.id)")
    for expected in (
        "producer:producer-game",
        "stream:game-events",
        "stream:clickstream",
        "query:leaderboard_1m",
        "query:iot_hot_devices",
        f"bucket:{bucket}",
    ):
        assert any(i == expected or i.startswith(expected) for i in ids), (expected, ids)
    assert any(i.startswith("delivery:") for i in ids), ids
    assert any(i.startswith("topic:") for i in ids), ids
    rates = await page.eval_on_selector_all("#pipeline text.edge-rate", "ts => ts.map(t => t.textContent)")
    assert any(re.match(r"^[1-9][\d.]*k?/s$", r) for r in rates), rates  # moving edges carry their rate
    detail = await page.locator('#pipeline g.node[data-id="query:leaderboard_1m"] text.node-detail').text_content()
    assert re.search(r"watermark \N{MINUS SIGN}\d+\.\d s · late \d+ · err \d+ · lag \d+", detail or ""), detail


async def check_delivery_and_streams(page: Page, url: str, prefix: str, results_topic: str) -> None:
    async with httpx.AsyncClient(base_url=url) as http:
        deadline = time.monotonic() + 60
        while True:  # a 5 s buffer interval: objects are there by now, or within a few more seconds
            pipeline = (await http.get("/pipeline")).json()
            mine = [d for d in pipeline["delivery"] if d["name"].startswith(prefix)]
            if (mine and all(d["objects"] > 0 and d["last_key"] for d in mine)) or time.monotonic() > deadline:
                break
            await page.wait_for_timeout(1000)
    assert len(mine) == 3, pipeline["delivery"]
    assert all(d["objects"] > 0 and d["bytes"] > 0 and d["last_key"].startswith(prefix) for d in mine), mine
    await page.wait_for_timeout(2_500)  # the page's next poll
    delivery_rows = await page.locator("#delivery-rows tr.delivery-row").all_inner_texts()
    assert len(delivery_rows) == 3, delivery_rows
    assert all(".parquet" in row for row in delivery_rows), delivery_rows
    streams = [r.split("\t")[0] for r in await page.locator("#stream-rows tr.stream-row").all_inner_texts()]
    assert {"game-events", "clickstream", "iot-telemetry"} <= set(streams), streams
    # kemu's own topics (this test's analytics outputs, and any metadata or default analytics topics the session's
    # cluster has) are listed apart, never as streams; other tests' topics are ordinary streams here.
    async with httpx.AsyncClient(base_url=url) as http:
        own = {s["name"] for s in (await http.get("/streams")).json()["streams"] if s["internal"]}
    assert results_topic in own
    assert not own & set(streams), own & set(streams)
    assert not any(s.startswith("__") for s in streams), streams
    internal = await page.locator("#internal-topics").inner_text()
    assert results_topic in internal, internal
