"""No aiokafka client is left unclosed when Kafka does not answer.

A producer or consumer collected without ``stop()`` warns "Unclosed AIOKafka...", even if it never started, and
with warnings as errors that fails whichever test is running when the garbage collector reaches it (a CI run
failed that way in a test of the event generators). The guard below reads the tree for the pattern behind it
(a client constructed, then started or awaited around outside the ``try`` that stops it); the behavioural
tests run code whose start fails against a port nothing listens on.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import textwrap
import warnings
from pathlib import Path

import pytest

from emulator.api.streams import StreamsInspector
from emulator.aws.compacted import load_compacted
from tests.support.client_lifecycle import unguarded_in_source, unguarded_starts

ROOT = Path(__file__).resolve().parents[2]


def test_every_client_in_the_tree_is_stopped_if_its_start_fails() -> None:
    found = unguarded_starts(ROOT, ("producers", "analytics", "sinks", "emulator", "bench", "tests"))
    assert not found, "\n".join(map(str, found))


LEAKY = """
async def leaky(bootstrap):
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait("t", b"v")
    finally:
        await producer.stop()
"""

LEAKY_NEIGHBOUR = """
async def leaky(bootstrap):
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        try:
            await consumer.start()
        finally:
            await consumer.stop()
    finally:
        await admin.close()
"""

GUARDED = """
async def guarded(self, bootstrap):
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    try:
        await producer.start()
        await self._consumer.start()
    finally:
        await producer.stop()
        await self._consumer.stop()

async def owned(self, bootstrap):
    self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    try:
        await self._producer.start()
    except BaseException:
        await self.stop()
        raise
"""


def test_the_guard_finds_a_start_outside_the_try() -> None:
    found = unguarded_in_source(textwrap.dedent(LEAKY), Path("leaky.py"))
    assert [(f.line, f.client) for f in found] == [(4, "producer"), (4, "producer")]
    assert "start() is not inside a try that stops it" in str(found[0])


def test_the_guard_finds_a_client_left_behind_by_another_s_failed_start() -> None:
    found = unguarded_in_source(textwrap.dedent(LEAKY_NEIGHBOUR), Path("leaky.py"))
    assert [(f.line, f.client) for f in found] == [(5, "consumer")]
    assert "constructed on line 4, then an await outside the try that stops it" in str(found[0])


def test_the_guard_accepts_clients_stopped_on_failure() -> None:
    assert unguarded_in_source(textwrap.dedent(GUARDED), Path("guarded.py")) == []


@pytest.fixture
def nothing_listens() -> str:
    """``127.0.0.1:<port>`` of a port just released: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"127.0.0.1:{port}"


def unclosed_after_collection() -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    return [str(w.message) for w in caught if "Unclosed AIOKafka" in str(w.message)]


async def test_loading_a_compacted_topic_from_no_kafka_leaves_no_consumer(nothing_listens: str) -> None:
    gc.collect()
    with pytest.raises(Exception, match="bootstrap"):
        await load_compacted(nothing_listens, "kemu-anything", lambda name, record: record)
    assert unclosed_after_collection() == []


async def test_the_streams_inspector_without_kafka_leaves_no_consumer(nothing_listens: str) -> None:
    gc.collect()
    with pytest.raises(Exception, match="bootstrap"):
        await asyncio.wait_for(StreamsInspector(nothing_listens).run(), 30)
    assert unclosed_after_collection() == []
