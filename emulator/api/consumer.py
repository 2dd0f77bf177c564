"""Feeds a :class:`ResultsView` from the analytics output topics of Kafka.

It reads without a consumer group, from the start of retention, every time it starts: the view is memory only, so a
restarted API rebuilds the same boards from the topics (a results record is the complete state of its window, so
replaying them in order ends on the latest state).
"""

from __future__ import annotations

import asyncio
import logging

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from emulator.api.models import AlertRecord, ResultRecord
from emulator.api.view import ResultsView

log = logging.getLogger(__name__)


class ResultsConsumer:
    """A supervised component (``run()``) that applies every results and alerts record to ``view``.

    A record that is not valid JSON or breaks the contract is logged with its position and counted
    (``kemu_api_invalid_records_total``); the feed goes on with the next one.
    """

    name = "api-results-consumer"

    def __init__(self, bootstrap_servers: str, results_topic: str, alerts_topic: str, view: ResultsView) -> None:
        self._bootstrap = bootstrap_servers
        self._results_topic = results_topic
        self._alerts_topic = alerts_topic
        self._view = view
        #: Set once every record that was in the topics when this run started has been applied.
        self.caught_up = asyncio.Event()
        self.records_in = 0

    def stats(self) -> dict[str, float]:
        """Figures for ``/metrics`` (see :class:`emulator.runtime.ReportsStats`)."""
        return {"events_in": self.records_in, "errors": self._view.stats.invalid_records}

    async def run(self) -> None:
        """Consume until cancelled."""
        self.caught_up.clear()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=None,  # no group: every API instance reads everything, from the start, with no rebalance
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=5_000,  # a topic the engine creates later is picked up within seconds
            client_id="kemu-api",
        )
        try:
            await consumer.start()
            await self._wait_for_topics(consumer)
            consumer.subscribe(topics=[self._results_topic, self._alerts_topic])
            targets: dict[TopicPartition, int] | None = None
            while True:
                batches = await consumer.getmany(timeout_ms=200, max_records=5_000)
                for tp, messages in batches.items():
                    for message in messages:
                        self._apply(tp.topic, message.value, tp.partition, message.offset)
                if self.caught_up.is_set():
                    continue
                assigned = consumer.assignment()
                if targets is None and assigned:
                    # What was in the topics when reading started: reaching it means the view is rebuilt.
                    targets = await consumer.end_offsets(list(assigned))
                if targets is not None and await _reached(consumer, targets):
                    self.caught_up.set()
        finally:
            await consumer.stop()

    async def _wait_for_topics(self, consumer: AIOKafkaConsumer, poll_s: float = 1.0) -> None:
        """Subscribe only once both topics exist: subscribed to a missing topic, aiokafka logs an error at every
        metadata refresh. They appear when the engine starts (``kemu up`` creates them before anything runs)."""
        wanted = {self._results_topic, self._alerts_topic}
        told = False
        while missing := wanted - set(await consumer.topics()):
            if not told:
                log.info("waiting for %s to exist (the analytics engine creates them)", ", ".join(sorted(missing)))
                told = True
            await asyncio.sleep(poll_s)

    def _apply(self, topic: str, value: bytes | None, partition: int, offset: int) -> None:
        self.records_in += 1
        try:
            if value is None:
                raise ValueError("empty record value")
            data = orjson.loads(value)
            if topic == self._results_topic:
                self._view.apply_result(ResultRecord.model_validate(data))
            else:
                self._view.apply_alert(AlertRecord.model_validate(data))
        except (ValueError, ValidationError) as exc:  # orjson.JSONDecodeError is a ValueError
            self._view.record_invalid()
            log.warning("skipping invalid record at %s[%d]@%d: %s", topic, partition, offset, str(exc)[:300])


async def _reached(consumer: AIOKafkaConsumer, targets: dict[TopicPartition, int]) -> bool:
    for tp, end in targets.items():
        if await consumer.position(tp) < end:
            return False
    return True
