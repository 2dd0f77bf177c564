"""The API against the real broker and MinIO: what it answers equals what was written to the results topics."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from emulator.api import ApiConfig, create_app
from tests.conftest import TopicFactory
from tests.support.api_server import serving
from tests.support.demo import demo_context, running_demo
from tests.support.endpoints import Endpoints
from tests.support.publisher import key_of
from tests.support.results import T0, alert, iso, result


async def publish(bootstrap: str, topic: str, records: list[dict[str, Any]], keyed: bool = True) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        await producer.start()
        for record in records:
            await producer.send_and_wait(topic, orjson.dumps(record), key=key_of(record) if keyed else None)
    finally:
        await producer.stop()


async def eventually(check: Any, timeout_s: float = 20.0) -> Any:
    """Poll ``check()`` (async, returning a truthy value when done) until it succeeds."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s; last value {value!r}")
        await asyncio.sleep(0.2)


@pytest.fixture
async def topics(new_topic: TopicFactory) -> tuple[str, str]:
    return await new_topic(partitions=2), await new_topic(partitions=1)


@pytest.fixture
async def serve(endpoints: Endpoints, topics: tuple[str, str]) -> AsyncIterator[Any]:
    """Starts API instances (each a fresh app, as after a restart) on free ports; stops them afterwards."""
    context = demo_context(endpoints, *topics)
    async with contextlib.AsyncExitStack() as servers:

        async def start() -> str:
            app = create_app(ApiConfig(context.settings.serving, context.kafka_bootstrap, context.s3))
            return await servers.enter_async_context(serving(app))

        yield start


async def test_answers_equal_the_published_results_and_survive_a_restart(
    kafka_bootstrap: str, topics: tuple[str, str], serve: Any
) -> None:
    results_topic, alerts_topic = topics
    t1 = T0 + timedelta(minutes=1)
    records = [
        result("top-players", T0, {"p1": 10, "p2": 20}),
        result("top-players", T0, {"p1": 40, "p2": 20, "p3": 5}, emitted_at=T0 + timedelta(seconds=50)),
        result("top-players", T0, {"p1": 40, "p2": 25, "p3": 5}, final=True, emitted_at=t1 + timedelta(seconds=5)),
        result("top-players", t1, {"p4": 7, "p2": 3}),
        result("top-levels", T0, {"p9": 3}),
    ]
    alerts = [alert("overheating", "dev-1", T0), alert("overheating", "dev-2", t1)]
    await publish(kafka_bootstrap, results_topic, records)
    await publish(kafka_bootstrap, alerts_topic, alerts, keyed=False)
    await publish(kafka_bootstrap, results_topic, [{"not": "a result"}], keyed=False)

    for _ in range(2):  # the second instance rebuilds everything from the topics
        url = await serve()
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:

            async def settled(http: httpx.AsyncClient = http) -> Any:
                answer = (await http.get("/leaderboards/top-players")).json()
                return answer if answer.get("window_start") == iso(t1) else None

            current = await eventually(settled)
            assert_answer_equals(current, records[3])
            final = (await http.get("/leaderboards/top-players", params={"window": "last"})).json()
            assert_answer_equals(final, records[2])
            at_t0 = (
                await http.get("/leaderboards/top-players", params={"window": iso(T0 + timedelta(seconds=3))})
            ).json()
            assert_answer_equals(at_t0, records[2])
            assert_answer_equals((await http.get("/leaderboards/top-levels")).json(), records[4])

            listed = (await http.get("/alerts")).json()["alerts"]
            assert [a["alert_id"] for a in listed] == [alerts[1]["alert_id"], alerts[0]["alert_id"]]
            assert listed[0] == alerts[1]

            metrics = (await http.get("/metrics")).text
            assert "kemu_api_invalid_records_total 1.0" in metrics

            async def ready(http: httpx.AsyncClient = http) -> Any:
                response = await http.get("/readyz")
                return response.json() if response.status_code == 200 else None

            readiness = await eventually(ready)
            assert readiness["checks"]["kafka"]["ok"]
            assert readiness["checks"]["s3"]["ok"]

            async def polled(http: httpx.AsyncClient = http) -> Any:
                answer = (await http.get("/streams")).json()
                return answer if answer["streams"] else None

            streams = {s["name"]: s for s in (await eventually(polled))["streams"]}
            shards = streams[results_topic]["shards"]
            assert [s["shard_id"] for s in shards] == ["shardId-000000000000", "shardId-000000000001"]
            assert sum(s["end_offset"] for s in shards) == len(records) + 1


def assert_answer_equals(answer: dict[str, Any], record: dict[str, Any]) -> None:
    """The API's window answer carries exactly the emitted record (scores as numbers, ranks in order)."""
    assert answer["name"] == record["query"]
    for field in ("window_start", "window_end", "final", "watermark", "emitted_at"):
        assert answer[field] == record[field], field
    assert [(e["rank"], e["key"], e["score"]) for e in answer["entries"]] == [
        (r["rank"], r["key"], r["score"]) for r in record["rows"]
    ]


async def test_the_running_demo_serves_what_the_publisher_wrote_and_streams_changes(
    endpoints: Endpoints, topics: tuple[str, str]
) -> None:
    async with (
        running_demo(endpoints, *topics, records_per_s=10, extra=[FailsTwice()]) as running,
        httpx.AsyncClient(base_url=running.url, timeout=10) as http,
    ):

        async def changes() -> Any:
            events: list[dict[str, Any]] = []
            async with http.stream("GET", "/leaderboards/top-players/stream", params={"limit": 25}) as stream:
                async for line in stream.aiter_lines():
                    if line.startswith("data: "):
                        events.append(orjson.loads(line.removeprefix("data: ")))
                        if len(events) == 3:
                            return events
            return events

        async def board_exists() -> bool:
            return (await http.get("/leaderboards/top-players")).status_code == 200

        await eventually(board_exists)
        events = await asyncio.wait_for(changes(), 20)
        assert len({e["emitted_at"] for e in events}) == 3  # each event is a new emission of the board
        for event in events:  # each pushed board is exactly one emission that went through Kafka
            assert_answer_equals(
                event, running.publisher.history[(event["name"], event["window_start"], event["emitted_at"])]
            )

        async def equal_to_published() -> bool:
            answer = (await http.get("/leaderboards/top-players", params={"limit": 25})).json()
            sent = running.publisher.published.get(("top-players", answer["window_start"]))
            return sent is not None and sent["emitted_at"] == answer["emitted_at"] and answer_equals(answer, sent)

        # The publisher keeps writing: catch a moment where the API has its latest emission, and compare.
        await eventually(equal_to_published)
        status = running.demo.supervisor.status("test-results-publisher")
        assert status is not None
        assert status.failures == 0
        metrics = (await http.get("/metrics")).text
        assert 'kemu_events_out_total{component="test-results-publisher"}' in metrics
        # A failing component is reported and restarted, not left dead.
        assert 'kemu_component_failures_total{component="fails-twice"} 2.0' in metrics
        assert 'kemu_component_restarts_total{component="fails-twice"} 2.0' in metrics
        assert 'kemu_component_up{component="fails-twice"} 1.0' in metrics


class FailsTwice:
    name = "fails-twice"

    def __init__(self) -> None:
        self.attempts = 0

    async def run(self) -> None:
        self.attempts += 1
        if self.attempts <= 2:
            raise RuntimeError(f"failure {self.attempts}")
        await asyncio.Event().wait()


def answer_equals(answer: dict[str, Any], record: dict[str, Any]) -> bool:
    try:
        assert_answer_equals(answer, record)
    except AssertionError:
        return False
    return True
